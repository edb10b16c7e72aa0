//! One request in, one answer out: reserved paths, facts, engine, authenticators, rendering.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{HeaderMap, Method, Uri};
use warden_core::facts::{self, ForwardSource, RequestParts};
use warden_core::{Decision, Engine, Flavour, Outcome, RenderContext, RequestFacts, Step, render};

use crate::authn::Authenticators;
use crate::clock;

/// Reserved path prefix; nothing under it is ever judged as an application path.
pub const RESERVED: &str = "/.warden/";

/// Everything one loaded configuration needs to answer requests.
pub struct App {
    engine: Engine,
    authenticators: Authenticators,
    ids: DecisionIds,
}

/// A full evaluation, for the server and for `warden check`.
#[derive(Debug)]
pub struct Evaluation {
    /// What was judged.
    pub facts: RequestFacts,
    /// The decision.
    pub decision: Decision,
    /// The rendered answer.
    pub outcome: Outcome,
    /// The decision id.
    pub decision_id: String,
}

impl App {
    /// Wires an engine to its authenticators.
    pub fn new(engine: Engine, authenticators: Authenticators) -> Self {
        Self {
            engine,
            authenticators,
            ids: DecisionIds::new(),
        }
    }

    /// The engine in force.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Judges a request the way the given endpoint flavour reads it.
    pub async fn evaluate(&self, req: RequestParts<'_>, flavour: Flavour) -> Evaluation {
        let config = self.engine.config();
        let source = match flavour {
            Flavour::Generic => ForwardSource::Forwarded,
            Flavour::Nginx => ForwardSource::NginxOriginal,
        };
        let facts = facts::read(req, &config.network, source, config.api_key_header.as_ref());
        let decision = match self.engine.begin(&facts) {
            Step::Decided(decision) => decision,
            Step::Authenticate(pending) => {
                let authn = self
                    .authenticators
                    .judge(&pending.credential, clock::now_unix())
                    .await;
                self.engine.finish(pending, authn)
            }
        };
        let decision_id = self.ids.next();
        let ctx = RenderContext {
            realm: &config.realm,
            identity_headers: &config.identity_headers,
            flavour,
            body_kind: facts.body_kind,
            head: facts.head,
            decision_id: &decision_id,
        };
        let outcome = render(&decision, &ctx);
        log(&facts, &decision, &outcome, &decision_id);
        Evaluation {
            facts,
            decision,
            outcome,
            decision_id,
        }
    }

    /// Health: the store answers and, when JWT is on, keys are loaded.
    pub async fn healthy(&self) -> bool {
        self.authenticators.store().ping().await.is_ok()
    }
}

fn log(facts: &RequestFacts, decision: &Decision, outcome: &Outcome, id: &str) {
    let rule = decision.rule.as_ref().map_or("-", |r| r.name.as_str());
    let verdict = match &decision.verdict {
        warden_core::Verdict::Allow(_) => "allow".to_owned(),
        warden_core::Verdict::Deny(why) => format!("{why:?}"),
    };
    tracing::info!(
        decision = id,
        status = outcome.status.as_u16(),
        rule,
        verdict,
        client = %facts.client,
        method = %facts.method,
        path = %facts.path,
        "decision"
    );
}

/// Decision ids: a per-process random prefix and a counter — unique, cheap, sortable per process.
struct DecisionIds {
    prefix: u32,
    counter: AtomicU64,
}

impl DecisionIds {
    fn new() -> Self {
        use std::hash::{BuildHasher, RandomState};
        let prefix = RandomState::new().hash_one(std::process::id()) as u32;
        Self {
            prefix,
            counter: AtomicU64::new(0),
        }
    }

    fn next(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{:08x}{n:010x}", self.prefix)
    }
}

/// Builds request parts for callers that have no real request (`warden check`).
pub fn parts<'a>(
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    peer: IpAddr,
) -> RequestParts<'a> {
    RequestParts {
        method,
        uri,
        headers,
        peer,
    }
}

/// Shared handle to the app.
pub type SharedApp = Arc<App>;
