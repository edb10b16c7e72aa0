//! What the Prometheus metrics cost per decision: the decision counter and latency histogram
//! (`DecisionMetrics::record`), a cache counter, and the two clock reads that time the
//! decision, with the recorder installed as `[admin]` installs it. Issue 13's bound is
//! 0.3 µs per decision.
//!
//! Measured in thread CPU time (benches/cputime.rs). `cargo bench --bench metrics`.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};

mod cputime;
use cputime::ThreadCpuTime;
use warden_core::Config;
use warden_server::metrics::{self, CacheName, DecisionMetrics};

const CONFIG: &str = r#"version = 1
[server]
listen = "127.0.0.1:4180"
realm = "bench"
[authn.basic]
[[rule]]
name = "health"
path = "/health"
allow = "anyone"
[[rule]]
name = "private"
path = "/private/**"
require = "authenticated"
[[rule]]
name = "admin"
path = "/admin/**"
require = { roles = ["admin"] }
"#;

fn bench(c: &mut Criterion<ThreadCpuTime>) {
    let config = Config::parse(CONFIG, Path::new("/")).expect("config");
    let mut group = c.benchmark_group("metrics_per_decision");
    // Before the recorder: every handle is a no-op (what a server without `[admin]` pays).
    let off = DecisionMetrics::new(&config.rules);
    group.bench_function("recorder_off", |b| {
        b.iter(|| {
            let started = Instant::now();
            metrics::cache(CacheName::Jwt, true);
            off.record(black_box(Some(1)), "allow", "jwt", started.elapsed());
        })
    });
    assert!(metrics::install().is_some(), "recorder");
    let on = DecisionMetrics::new(&config.rules);
    let mut n = 0u32;
    group.bench_function("recorder_on", |b| {
        b.iter(|| {
            let started = Instant::now();
            metrics::cache(CacheName::Jwt, true);
            on.record(black_box(Some(1)), "allow", "jwt", started.elapsed());
            n = n.wrapping_add(1);
            if n % 65_536 == 0 {
                // The server drains histograms every 5 s; without it samples pile up.
                metrics::upkeep();
            }
        })
    });
    group.bench_function("recorder_on_denials_mixed", |b| {
        let outcomes = [
            ("401", "none", None),
            ("403", "jwt", Some(2)),
            ("403", "none", None),
        ];
        let mut i = 0usize;
        b.iter(|| {
            let (outcome, authn, rule) = outcomes[i % outcomes.len()];
            i += 1;
            let started = Instant::now();
            on.record(black_box(rule), outcome, authn, started.elapsed());
            if i % 65_536 == 0 {
                metrics::upkeep();
            }
        })
    });
    group.finish();
    assert!(
        metrics::render()
            .unwrap_or_default()
            .contains("warden_decisions_total")
    );
}

criterion_group! {
    name = benches;
    config = cputime::criterion();
    targets = bench
}
criterion_main!(benches);
