//! The state suite and revocation fan-out against a private three-node Redis Cluster,
//! shared by the tests that run at the same time and killed after the last of them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[macro_use]
mod state;

use std::sync::Arc;

use common::redis::Cluster;
use state::{Backend, Redis, revocations};
use warden_store::{AttemptLimits, AttemptState};

/// A cluster backend; holding the cluster keeps its nodes alive for the test.
struct OnCluster {
    cluster: Arc<Cluster>,
    redis: Redis,
}

impl OnCluster {
    fn new() -> Self {
        let cluster = Cluster::shared();
        let redis = Redis {
            urls: cluster.urls(),
            cluster: true,
        };
        OnCluster { cluster, redis }
    }
}

impl Backend for OnCluster {
    fn state(&self, limits: AttemptLimits) -> Arc<dyn AttemptState> {
        self.redis.state(limits)
    }
}

attempt_cases!(OnCluster::new());

#[tokio::test]
async fn published_events_reach_another_replica() {
    let on = OnCluster::new();
    revocations::published_events_reach_another_replica(&on.redis).await;
}

#[tokio::test]
async fn a_listener_starts_with_all() {
    let on = OnCluster::new();
    revocations::a_listener_starts_with_all(&on.redis).await;
}

#[tokio::test]
async fn another_prefix_hears_nothing() {
    let on = OnCluster::new();
    revocations::another_prefix_hears_nothing(&on.redis).await;
}

#[tokio::test]
async fn events_published_on_any_node_reach_a_listener_on_the_first() {
    // The listener subscribes to the first seed; publish straight to each node in turn,
    // so every node's relay over the cluster bus is exercised.
    let on = OnCluster::new();
    let prefix = state::unique_prefix();
    let listener = on.redis.open(&prefix, AttemptLimits::default());
    let mut heard = revocations::Heard::start(&listener);
    heard.subscribed(std::time::Duration::from_secs(5)).await;
    for (i, url) in on.redis.urls.iter().enumerate() {
        let single = Redis {
            urls: vec![url.clone()],
            cluster: false,
        };
        let event = warden_store::Revocation::Subject(format!("via-node-{i}"));
        single
            .open(&prefix, AttemptLimits::default())
            .publish(&event)
            .await
            .unwrap();
        assert_eq!(heard.next(revocations::DELIVERY).await, Some(event));
    }
}

#[tokio::test]
async fn ping_reaches_every_primary() {
    let on = OnCluster::new();
    let state = on
        .redis
        .open(&state::unique_prefix(), AttemptLimits::default());
    state.ping().await.unwrap();
    assert_eq!(on.cluster.nodes().len(), 3);
}
