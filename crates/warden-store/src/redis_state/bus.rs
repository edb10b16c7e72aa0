//! The revocation listener: one dedicated pub/sub connection, re-opened whenever it is lost.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{PubSub, PubSubSink};
use redis::{Client, Msg, RedisError, RedisResult};
use tokio::time::MissedTickBehavior;

use crate::Revocation;

/// Least time between two subscription attempts, so a Redis that is down is not hammered.
const RETRY_EVERY: Duration = Duration::from_millis(500);
/// How often an idle subscription is checked with PING: a server that vanished without
/// closing the socket (a partition, a paused process) sends no EOF.
const HEALTH_EVERY: Duration = Duration::from_secs(5);

/// Everything the listening task needs; owns no connection until it runs.
pub(super) struct Listener {
    /// Tried in turn: the server, or each cluster seed (any node relays classic PUBLISH).
    pub(super) clients: Vec<Client>,
    pub(super) channel: String,
    pub(super) timeout: Duration,
    pub(super) on_event: Arc<dyn Fn(Revocation) + Send + Sync>,
}

impl Listener {
    /// Subscribes, relays events until the connection is lost, and starts over, forever.
    pub(super) async fn run(self) {
        let mut attempts = tokio::time::interval(RETRY_EVERY);
        // After a long-lived subscription drops, try again at once, then every RETRY_EVERY.
        attempts.set_missed_tick_behavior(MissedTickBehavior::Delay);
        for client in self.clients.iter().cycle() {
            attempts.tick().await;
            // A failed attempt has nobody to report to: the next one follows shortly, and the
            // `All` after it covers whatever was missed meanwhile.
            if let Ok(pubsub) = self.subscribe(client).await {
                (self.on_event)(Revocation::All);
                self.relay(pubsub).await;
            }
        }
    }

    async fn subscribe(&self, client: &Client) -> RedisResult<PubSub> {
        // The plain pub/sub connection has no connect timeout of its own.
        let mut pubsub = within(self.timeout, client.get_async_pubsub()).await?;
        within(self.timeout, pubsub.subscribe(&self.channel)).await?;
        Ok(pubsub)
    }

    /// Hands each message to `on_event` until the connection ends or stops answering.
    async fn relay(&self, pubsub: PubSub) {
        let (mut sink, mut stream) = pubsub.split();
        let mut health = tokio::time::interval(HEALTH_EVERY);
        health.reset();
        loop {
            tokio::select! {
                message = stream.next() => match message {
                    Some(message) => (self.on_event)(decode(&message)),
                    None => return,
                },
                _ = health.tick() => {
                    if !self.alive(&mut sink).await {
                        return;
                    }
                }
            }
        }
    }

    async fn alive(&self, sink: &mut PubSubSink) -> bool {
        within(self.timeout, sink.ping::<redis::Value>())
            .await
            .is_ok()
    }
}

/// A message as an event; an unreadable payload means "forget everything".
fn decode(message: &Msg) -> Revocation {
    message
        .get_payload::<String>()
        .map_or(Revocation::All, |payload| Revocation::decode(&payload))
}

/// Bounds one step; a step that takes too long counts as an I/O timeout.
async fn within<T>(
    timeout: Duration,
    step: impl Future<Output = RedisResult<T>>,
) -> RedisResult<T> {
    match tokio::time::timeout(timeout, step).await {
        Ok(result) => result,
        Err(_) => Err(RedisError::from(io::Error::from(io::ErrorKind::TimedOut))),
    }
}
