//! Lazily opened connections to a standalone Redis or a Redis Cluster.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::{Client, Cmd, ConnectionInfo, Pipeline, RedisFuture, RedisResult, Value};
use tokio::sync::OnceCell;

use crate::StoreError;

/// Reconnection attempts of the standalone manager per lost connection; each call is bounded
/// by the caller's timeout anyway, and the next call starts a new round.
const RETRIES: usize = 2;
/// First delay between reconnection attempts.
const RETRY_MIN: Duration = Duration::from_millis(100);
/// Longest delay between reconnection attempts, so a restarted Redis is found again quickly.
const RETRY_MAX: Duration = Duration::from_millis(500);

/// Where commands go; the connection is opened on first use, never in `open`.
pub(super) enum Target {
    /// One server, through a manager that reconnects by itself.
    Single {
        client: Client,
        config: ConnectionManagerConfig,
        manager: OnceCell<ConnectionManager>,
    },
    /// A cluster; `seeds` are plain clients for pub/sub, which any node relays.
    Cluster {
        client: ClusterClient,
        seeds: Vec<Client>,
        connection: OnceCell<ClusterConnection>,
    },
}

impl Target {
    /// Prepares clients for checked URLs; no I/O.
    pub(super) fn open(
        nodes: Vec<ConnectionInfo>,
        cluster: bool,
        timeout: Duration,
    ) -> Result<Target, StoreError> {
        let seeds = nodes
            .iter()
            .map(|node| Client::open(node.clone()))
            .collect::<RedisResult<Vec<_>>>()
            .map_err(url_error)?;
        if cluster {
            let client = ClusterClientBuilder::new(nodes)
                .connection_timeout(timeout)
                .response_timeout(timeout)
                .build()
                .map_err(url_error)?;
            return Ok(Target::Cluster {
                client,
                seeds,
                connection: OnceCell::new(),
            });
        }
        let client = seeds
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Url("no redis url given".to_owned()))?;
        Ok(Target::Single {
            client,
            config: manager_config(timeout),
            manager: OnceCell::new(),
        })
    }

    /// A handle for commands, connecting first if no connection was made yet.
    ///
    /// A failed first connect leaves the cell empty, so the next call tries again.
    pub(super) async fn connection(&self) -> RedisResult<Conn> {
        match self {
            Target::Single {
                client,
                config,
                manager,
            } => {
                let connect = || ConnectionManager::new_with_config(client.clone(), config.clone());
                Ok(Conn::Single(
                    manager.get_or_try_init(connect).await?.clone(),
                ))
            }
            Target::Cluster {
                client, connection, ..
            } => {
                let connect = || client.get_async_connection();
                Ok(Conn::Cluster(
                    connection.get_or_try_init(connect).await?.clone(),
                ))
            }
        }
    }

    /// Clients to subscribe with, tried in turn.
    pub(super) fn pubsub_clients(&self) -> Vec<Client> {
        match self {
            Target::Single { client, .. } => vec![client.clone()],
            Target::Cluster { seeds, .. } => seeds.clone(),
        }
    }
}

/// Timeouts on connect and on every response, and quick, few reconnection attempts.
fn manager_config(timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(RETRIES)
        .set_min_delay(RETRY_MIN)
        .set_max_delay(RETRY_MAX)
}

/// A client the crate refused to build from URLs that parsed; its messages name no password.
fn url_error(e: redis::RedisError) -> StoreError {
    StoreError::Url(e.to_string())
}

/// A connection handle of either kind; both are cheap clones of a shared connection.
pub(super) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}
