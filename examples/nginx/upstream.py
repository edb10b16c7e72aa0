#!/usr/bin/env python3
"""The demo app behind the front proxy: answers every request with 200 and a small JSON
document naming the request and the identity headers it received from the proxy.

Usage: upstream.py [PORT]   (default 8091; listens on 127.0.0.1 only)
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IDENTITY = ("X-Auth-Subject", "X-Auth-Roles", "X-Auth-Scopes", "X-Auth-Method")


class Echo(BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        seen = {name: self.headers.get_all(name, []) for name in IDENTITY}
        body = json.dumps(
            {"app": "demo", "method": self.command, "path": self.path, "identity": seen},
            indent=2,
        ).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = answer

    def log_message(self, fmt, *args):
        sys.stderr.write("app: " + fmt % args + "\n")


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8091
    ThreadingHTTPServer(("127.0.0.1", port), Echo).serve_forever()
