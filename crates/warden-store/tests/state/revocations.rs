//! Revocation fan-out cases for any Redis deployment: what one replica publishes, every
//! replica with the same prefix hears, and no other.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::task::JoinHandle;
use warden_store::{AttemptLimits, RedisState, Revocation};

use super::{Redis, unique_prefix};

/// Events reach a listener within this.
pub const DELIVERY: Duration = Duration::from_secs(1);

/// A running listener and the events it heard; the task is aborted on drop.
pub struct Heard {
    events: UnboundedReceiver<Revocation>,
    task: JoinHandle<()>,
}

impl Heard {
    pub fn start(state: &RedisState) -> Heard {
        let (tx, events) = unbounded_channel();
        let task = state.listen(Arc::new(move |event| {
            let _ = tx.send(event);
        }));
        Heard { events, task }
    }

    /// The next event, or None if nothing came within `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Revocation> {
        tokio::time::timeout(within, self.events.recv())
            .await
            .ok()
            .flatten()
    }

    /// Waits for the `All` a (re)subscription starts with.
    pub async fn subscribed(&mut self, within: Duration) {
        assert_eq!(self.next(within).await, Some(Revocation::All));
    }
}

impl Drop for Heard {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn open(redis: &Redis, prefix: &str) -> RedisState {
    redis.open(prefix, AttemptLimits::default())
}

pub async fn published_events_reach_another_replica(redis: &Redis) {
    let prefix = unique_prefix();
    let (a, b) = (open(redis, &prefix), open(redis, &prefix));
    let mut heard = Heard::start(&a);
    heard.subscribed(Duration::from_secs(5)).await;
    let events = [
        Revocation::Subject("alice".into()),
        Revocation::Session("0a1b2c3d4e5f".into()),
        Revocation::Subject("key:ci deploy".into()),
    ];
    for event in &events {
        b.publish(event).await.unwrap();
        assert_eq!(heard.next(DELIVERY).await.as_ref(), Some(event));
    }
    // The publisher's own listener hears its events too (one fan-out for every replica).
    let mut own = Heard::start(&b);
    own.subscribed(Duration::from_secs(5)).await;
    b.publish(&Revocation::All).await.unwrap();
    assert_eq!(own.next(DELIVERY).await, Some(Revocation::All));
    assert_eq!(heard.next(DELIVERY).await, Some(Revocation::All));
}

pub async fn a_listener_starts_with_all(redis: &Redis) {
    let state = open(redis, &unique_prefix());
    let mut heard = Heard::start(&state);
    // Nothing was published: the first event is the reset every subscription begins with.
    assert_eq!(
        heard.next(Duration::from_secs(5)).await,
        Some(Revocation::All)
    );
    assert_eq!(heard.next(Duration::from_millis(300)).await, None);
}

pub async fn another_prefix_hears_nothing(redis: &Redis) {
    let (mine, theirs) = (unique_prefix(), unique_prefix());
    let mut heard = Heard::start(&open(redis, &mine));
    heard.subscribed(Duration::from_secs(5)).await;
    let mut control = Heard::start(&open(redis, &theirs));
    control.subscribed(Duration::from_secs(5)).await;
    let publisher = open(redis, &theirs);
    publisher
        .publish(&Revocation::Subject("bob".into()))
        .await
        .unwrap();
    // The control proves the event was sent before the silence is judged.
    let bob = Some(Revocation::Subject("bob".into()));
    assert_eq!(control.next(DELIVERY).await, bob);
    assert_eq!(heard.next(DELIVERY).await, None);
}
