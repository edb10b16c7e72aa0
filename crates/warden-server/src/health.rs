//! `/.warden/health`: 200 while every dependency the configuration needs answers, 503 with
//! `Retry-After` naming the one that does not. Errors go to the log, never to the body.

use warden_core::Config;
use warden_store::StoreError;

use crate::backends::{state_name, store_name};

/// One probe of the dependencies.
#[derive(Debug)]
pub struct Health {
    /// `store (postgresql)` and whether it answered.
    pub store: (&'static str, bool),
    /// `state (redis)` and whether it answered, when state is shared.
    pub state: Option<(&'static str, bool)>,
}

impl Health {
    /// Judges the probe results, logging each failure.
    pub fn new(
        config: &Config,
        store: Result<(), StoreError>,
        state: Option<Result<(), StoreError>>,
    ) -> Self {
        let up = |what: &str, name: &str, result: Result<(), StoreError>| match result {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "health: {what} ({name}) is down");
                false
            }
        };
        let (store_kind, state_kind) = (store_name(&config.store), state_name(&config.state));
        Self {
            store: (store_kind, up("store", store_kind, store)),
            state: state.map(|r| (state_kind, up("state", state_kind, r))),
        }
    }

    /// True when everything answered.
    pub fn is_up(&self) -> bool {
        self.store.1 && self.state.is_none_or(|(_, up)| up)
    }

    /// The body: a first word for scripts, then one line per dependency.
    pub fn body(&self) -> String {
        let line = |what: &str, (name, up): (&str, bool)| {
            format!("{what} ({name}): {}\n", if up { "up" } else { "down" })
        };
        let mut body = String::from(if self.is_up() {
            "ok\n"
        } else {
            "unavailable\n"
        });
        body.push_str(&line("store", self.store));
        if let Some(state) = self.state {
            body.push_str(&line("state", state));
        }
        body
    }
}
