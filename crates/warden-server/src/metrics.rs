//! Prometheus metrics: recorded through the `metrics` facade and rendered by
//! metrics-exporter-prometheus on the admin listener. Without `[admin]` no recorder is
//! installed and every handle is a no-op.
//!
//! Label values are bounded: rule names come from the configuration, outcomes and
//! authenticators from fixed lists; never a path, a subject or a client address.

use std::sync::{LazyLock, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use metrics::{Counter, Histogram, SharedString};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use metrics_util::MetricKindMask;
use warden_core::rules::RuleSet;
use warden_core::{AuthMethod, Credential, Decision, Verdict};
use warden_store::session::FEDERATED_PREFIX;

/// Buckets for every `*_duration_seconds` histogram: 50 µs (a cached token) to 2.5 s (a
/// password hash behind a slow store).
const BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder (once; later calls return the same handle). Must run
/// before the first app is built, or that app's handles stay no-ops.
pub fn install() -> Option<&'static PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Some(handle);
    }
    // Gauges not set for a minute disappear: an earlier config hash is gone a minute after a
    // reload, so `warden_config_info` stays one series. The live ones are set again by upkeep.
    let builder = PrometheusBuilder::new()
        .idle_timeout(MetricKindMask::GAUGE, Some(Duration::from_secs(60)))
        .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), BUCKETS)
        .ok()?;
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
    }
    describe();
    let handle = HANDLE.get_or_init(|| handle);
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                upkeep();
            }
        });
    }
    Some(handle)
}

/// Drains recorded histogram samples into their buckets, so memory stays flat between
/// scrapes (every 5 s on its own when installed inside a runtime).
pub fn upkeep() {
    if let Some(handle) = HANDLE.get() {
        handle.run_upkeep();
    }
    let gauges = IN_FORCE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if let Some((hash, ok)) = gauges {
        set_gauges(&hash, ok);
    }
}

/// The config hash in force and whether the last reload took effect, kept to set the gauges
/// again on every upkeep.
static IN_FORCE: Mutex<Option<(String, bool)>> = Mutex::new(None);

fn set_gauges(hash: &str, ok: bool) {
    metrics::gauge!("warden_config_info", "hash" => hash.to_owned()).set(1.0);
    metrics::gauge!("warden_config_last_reload_successful").set(if ok { 1.0 } else { 0.0 });
}

/// The text exposition of every metric, when a recorder is installed.
pub fn render() -> Option<String> {
    HANDLE.get().map(PrometheusHandle::render)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "warden_decisions_total",
        "Decisions by rule, outcome and authenticator"
    );
    describe_histogram!(
        "warden_decision_duration_seconds",
        metrics::Unit::Seconds,
        "Time from request facts to rendered answer"
    );
    describe_counter!(
        "warden_cache_requests_total",
        "Cache lookups by cache and result"
    );
    describe_counter!("warden_jwks_refreshes_total", "JWKS loads by result");
    describe_histogram!("warden_store_call_duration_seconds", "Store call latency");
    describe_counter!("warden_store_call_errors_total", "Store calls that failed");
    describe_histogram!(
        "warden_state_call_duration_seconds",
        "Shared-state call latency"
    );
    describe_counter!(
        "warden_state_call_errors_total",
        "Shared-state calls that failed"
    );
    describe_counter!(
        "warden_attempt_blocks_total",
        "Answers 429 after failed attempts"
    );
    describe_counter!(
        "warden_upstream_responses_total",
        "Upstream answers by status"
    );
    describe_histogram!(
        "warden_upstream_duration_seconds",
        "Upstream response-head latency"
    );
    describe_counter!(
        "warden_config_reloads_total",
        "Configuration reloads by result"
    );
    describe_gauge!(
        "warden_config_info",
        "1 for the configuration in force, by its hash"
    );
    describe_gauge!(
        "warden_config_last_reload_successful",
        "1 when the last reload took effect"
    );
}

/// The `outcome` label: `allow`, `preflight` or the status sent.
const OUTCOMES: [&str; 11] = [
    "allow",
    "preflight",
    "400",
    "401",
    "403",
    "404",
    "429",
    "431",
    "503",
    "302",
    "other",
];

/// The `authenticator` label.
const AUTHENTICATORS: [&str; 7] = [
    "none",
    "jwt",
    "basic",
    "api_key",
    "session",
    "oidc",
    "introspection",
];

/// Which authenticator judged a request: the identity's method, else the credential's kind
/// (`none` when no credential was judged).
pub fn authenticator(decision: &Decision, credential: Option<&'static str>) -> &'static str {
    let identity = decision.verdict.identity();
    match (identity, credential) {
        (Some(identity), _) => identity.method.as_str(),
        (None, Some(kind)) => kind,
        (None, None) => "none",
    }
}

/// The authenticator a credential goes to.
pub fn authenticator_of(credential: &Credential) -> &'static str {
    let method = match credential {
        Credential::Jwt(_) => AuthMethod::Jwt,
        Credential::ApiKey(_) => AuthMethod::ApiKey,
        Credential::Introspection(_) => AuthMethod::Introspection,
        Credential::Basic { .. } => AuthMethod::Basic,
        Credential::Session(t) if t.starts_with(FEDERATED_PREFIX) => AuthMethod::Oidc,
        Credential::Session(_) => AuthMethod::Session,
    };
    method.as_str()
}

/// The `outcome` label of a decision answered with `status` (the real one, before the nginx
/// flavour maps it).
pub fn outcome(verdict: &Verdict, status: u16) -> &'static str {
    match (verdict, status) {
        (Verdict::Allow(_), _) => "allow",
        (Verdict::Preflight, _) => "preflight",
        (Verdict::Deny(_), 400) => "400",
        (Verdict::Deny(_), 401) => "401",
        (Verdict::Deny(_), 403) => "403",
        (Verdict::Deny(_), 404) => "404",
        (Verdict::Deny(_), 429) => "429",
        (Verdict::Deny(_), 431) => "431",
        (Verdict::Deny(_), 503) => "503",
        (Verdict::Deny(_), 302 | 303) => "302",
        (Verdict::Deny(_), _) => "other",
    }
}

/// Per-decision handles for one configuration's rules, registered on first use so only the
/// combinations that happen appear; recording is an index and an atomic add.
pub struct DecisionMetrics {
    /// Rule names by index, then `-` for "no rule matched".
    names: Vec<SharedString>,
    counters: Box<[OnceLock<Counter>]>,
    latency: Histogram,
}

impl DecisionMetrics {
    /// Handles for these rules.
    pub fn new(rules: &RuleSet) -> Self {
        let mut names: Vec<SharedString> = (rules.rules().iter())
            .map(|r| SharedString::from(r.name.clone()))
            .collect();
        names.push(SharedString::const_str("-"));
        let slots = names.len() * OUTCOMES.len() * AUTHENTICATORS.len();
        Self {
            names,
            counters: (0..slots).map(|_| OnceLock::new()).collect(),
            latency: metrics::histogram!("warden_decision_duration_seconds"),
        }
    }

    /// Counts one decision and its latency.
    pub fn record(&self, rule: Option<usize>, outcome: &str, authenticator: &str, took: Duration) {
        let rule = rule.filter(|r| *r + 1 < self.names.len());
        let rule = rule.unwrap_or(self.names.len() - 1);
        let o = OUTCOMES.iter().position(|x| *x == outcome).unwrap_or(10);
        let a = (AUTHENTICATORS.iter().position(|x| *x == authenticator)).unwrap_or(0);
        let slot = (rule * OUTCOMES.len() + o) * AUTHENTICATORS.len() + a;
        if let Some(cell) = self.counters.get(slot) {
            let counter = cell.get_or_init(|| {
                metrics::counter!(
                    "warden_decisions_total",
                    "rule" => self.names[rule].clone(),
                    "outcome" => OUTCOMES[o],
                    "authenticator" => AUTHENTICATORS[a],
                )
            });
            counter.increment(1);
        }
        self.latency.record(took.as_secs_f64());
    }
}

/// A cache whose lookups are counted.
#[derive(Debug, Clone, Copy)]
pub enum CacheName {
    /// Verified JWTs.
    Jwt,
    /// Basic credentials.
    Basic,
    /// API keys.
    ApiKey,
    /// Session cookies.
    Session,
    /// Introspection answers.
    Introspection,
}

/// Handles hot enough to keep registered: cache lookups.
struct Hot {
    cache: [[Counter; 2]; 5],
}

static HOT: LazyLock<Hot> = LazyLock::new(|| {
    let pair = |cache: &'static str| {
        [
            metrics::counter!("warden_cache_requests_total", "cache" => cache, "result" => "hit"),
            metrics::counter!("warden_cache_requests_total", "cache" => cache, "result" => "miss"),
        ]
    };
    Hot {
        cache: [
            pair("jwt"),
            pair("basic"),
            pair("api_key"),
            pair("session"),
            pair("introspection"),
        ],
    }
});

/// Counts one cache lookup.
pub fn cache(name: CacheName, hit: bool) {
    HOT.cache[name as usize][usize::from(!hit)].increment(1);
}

/// Counts a JWKS load.
pub fn jwks_refresh(ok: bool) {
    let result = if ok { "success" } else { "failure" };
    metrics::counter!("warden_jwks_refreshes_total", "result" => result).increment(1);
}

/// Counts a 429 after failed attempts.
pub fn attempt_block() {
    metrics::counter!("warden_attempt_blocks_total").increment(1);
}

/// Times a store call (`kind` = `store` or `state`) and counts its failure.
pub async fn timed<T, E>(
    kind: Dependency,
    backend: &'static str,
    operation: &'static str,
    call: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = std::time::Instant::now();
    let result = call.await;
    let (latency, errors) = match kind {
        Dependency::Store => (
            "warden_store_call_duration_seconds",
            "warden_store_call_errors_total",
        ),
        Dependency::State => (
            "warden_state_call_duration_seconds",
            "warden_state_call_errors_total",
        ),
    };
    let labels = [("backend", backend), ("operation", operation)];
    metrics::histogram!(latency, &labels).record(started.elapsed().as_secs_f64());
    if result.is_err() {
        metrics::counter!(errors, &labels).increment(1);
    }
    result
}

/// Which dependency a call went to.
#[derive(Debug, Clone, Copy)]
pub enum Dependency {
    /// Users, keys, sessions.
    Store,
    /// Failed-attempt counters.
    State,
}

/// Counts an upstream answer (`status` `None`: no answer) and its latency.
pub fn upstream(status: Option<u16>, took: Duration) {
    let status: SharedString = match status {
        Some(code) => SharedString::from(code.to_string()),
        None => SharedString::const_str("error"),
    };
    metrics::counter!("warden_upstream_responses_total", "status" => status).increment(1);
    metrics::histogram!("warden_upstream_duration_seconds").record(took.as_secs_f64());
}

/// Counts a reload attempt.
pub fn reload(ok: bool) {
    let result = if ok { "success" } else { "failure" };
    metrics::counter!("warden_config_reloads_total", "result" => result).increment(1);
    last_reload(ok);
}

/// Whether the last load or reload took effect.
pub fn last_reload(ok: bool) {
    let mut in_force = IN_FORCE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, was)) = in_force.as_mut() {
        *was = ok;
    }
    metrics::gauge!("warden_config_last_reload_successful").set(if ok { 1.0 } else { 0.0 });
}

/// Marks `hash` as the configuration in force, and `previous` as no longer (its series goes
/// a minute later).
pub fn config_in_force(hash: &str, previous: Option<&str>) {
    if let Some(previous) = previous.filter(|p| *p != hash) {
        metrics::gauge!("warden_config_info", "hash" => previous.to_owned()).set(0.0);
    }
    let mut in_force = IN_FORCE.lock().unwrap_or_else(PoisonError::into_inner);
    let ok = in_force.as_ref().is_none_or(|(_, ok)| *ok);
    *in_force = Some((hash.to_owned(), ok));
    drop(in_force);
    set_gauges(hash, ok);
}
