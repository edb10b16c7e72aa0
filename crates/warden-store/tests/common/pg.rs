//! PostgreSQL test setup: one schema per test on the server of `WARDEN_TEST_PG_URL`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::{Connection as _, PgConnection};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use warden_store::PgStore;

/// Where the tests find PostgreSQL unless `WARDEN_TEST_PG_URL` says otherwise.
const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Timeout of the stores the tests build, unless a test chooses its own.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The server's URL, without any search_path.
pub fn base_url() -> String {
    std::env::var("WARDEN_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// `url` with its query string extended by `param`.
pub fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

/// `url` with the database (its path) replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let (main, query) = url
        .split_once('?')
        .map_or((url, None), |(m, q)| (m, Some(q)));
    let (scheme, rest) = main.split_once("://").unwrap();
    let authority = rest.split('/').next().unwrap();
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{authority}/{database}{query}")
}

/// `url` with the host and port replaced by `host_port`.
pub fn with_host_port(url: &str, host_port: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let userinfo = authority.rsplit_once('@').map(|(u, _)| format!("{u}@"));
    format!(
        "{scheme}://{}{host_port}{tail}",
        userinfo.unwrap_or_default()
    )
}

/// The `host:port` the URL points at.
pub fn host_port(url: &str) -> String {
    let options: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    format!("{}:{}", options.get_host(), options.get_port())
}

/// A schema of its own for one test, dropped (with everything in it) when this is dropped.
pub struct TestSchema {
    name: String,
    url: String,
}

impl TestSchema {
    /// Creates `w_<random hex>` on the test server.
    pub async fn new() -> TestSchema {
        let name = format!("w_{}", warden_store::api_key::generate().unwrap().id);
        let mut admin = PgConnection::connect(&base_url()).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        // The server applies `-c` options at connect, so every pooled connection uses it;
        // the application name lets the cleanup find this test's connections.
        let params = format!("options=-c%20search_path%3D{name}&application_name={name}");
        let url = with_param(&base_url(), &params);
        TestSchema { name, url }
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The server's URL with this schema as the search_path.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A store on this schema.
    pub fn store(&self) -> PgStore {
        PgStore::new(&self.url, TIMEOUT).unwrap()
    }

    /// A raw connection on this schema, to look behind the store's back.
    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.unwrap()
    }

    /// Runs one statement on a connection of its own.
    pub async fn exec(&self, sql: &str) {
        let mut conn = self.connect().await;
        sqlx::query(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }

    /// The integer one statement selects.
    pub async fn int(&self, sql: &str) -> i64 {
        let mut conn = self.connect().await;
        let value = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        value
    }

    /// Names of the tables in this schema, sorted.
    pub async fn tables(&self) -> Vec<String> {
        let mut conn = self.connect().await;
        let names = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = $1 ORDER BY table_name",
        )
        .bind(&self.name)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
        names
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        // Drop cannot await, and blocks the test's runtime: clean up on a thread with a
        // runtime of its own. Best effort.
        let name = self.name.clone();
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(drop_schema(&name))
        });
        let _ = cleanup.join();
    }
}

/// Ends the connections of the test that used schema `name`, then drops the schema.
async fn drop_schema(name: &str) -> Option<()> {
    let mut admin = PgConnection::connect(&base_url()).await.ok()?;
    // The store's pooled connections outlive the test: their release (which would
    // roll back a transaction left open by an early return) runs on the blocked runtime.
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(name)
    .execute(&mut admin)
    .await
    .ok()?;
    sqlx::query("SET lock_timeout = '10s'")
        .execute(&mut admin)
        .await
        .ok()?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
        .execute(&mut admin)
        .await
        .ok()?;
    admin.close().await.ok()
}

/// A TCP proxy to the test server that can cut every connection, like a server restart.
pub struct Proxy {
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Forwards connections accepted by `listener` to `upstream` (`host:port`).
    pub fn start(listener: TcpListener, upstream: String) -> Proxy {
        let connections = Arc::new(Mutex::new(Vec::new()));
        let tracked = Arc::clone(&connections);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tracked.lock().unwrap().push(pipe);
            }
        });
        Proxy {
            connections,
            accept,
        }
    }

    /// Closes every connection made so far; new ones are still accepted.
    pub fn cut(&self) {
        for pipe in self.connections.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
