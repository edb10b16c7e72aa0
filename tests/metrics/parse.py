#!/usr/bin/env python3
"""Reads Prometheus text exposition on stdin and prints its samples as JSON.

Output: a list of {"name": ..., "labels": {...}, "value": ...}, one per sample, in order.
Finite values are numbers; NaN and infinities are the strings "NaN", "+Inf", "-Inf" (JSON
has no literal for them). A parse error exits non-zero with the reason on stderr.

Used by the warden integration tests (crates/warden-cli/tests/common/admin.rs); the parser is
pinned in requirements.txt next to this file.
"""

import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def value_of(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return v


def main():
    text = sys.stdin.read()
    samples = []
    try:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                samples.append(
                    {"name": s.name, "labels": dict(s.labels), "value": value_of(s.value)}
                )
    except Exception as e:  # the parser raises ValueError and others on bad input
        print(f"not valid Prometheus text: {e!r}", file=sys.stderr)
        return 1
    json.dump(samples, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
