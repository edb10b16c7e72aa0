//! The state suite against the in-process counters (`MemoryAttempts`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod state;

use std::sync::Arc;

use warden_store::{AttemptLimits, AttemptState, MemoryAttempts};

struct Memory;

impl state::Backend for Memory {
    fn state(&self, limits: AttemptLimits) -> Arc<dyn AttemptState> {
        Arc::new(MemoryAttempts::new(limits))
    }
}

attempt_cases!(Memory);
