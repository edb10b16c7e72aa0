//! The conformance suite against SQLite: a fresh database file per test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod conformance;

use sqlx::Connection as _;
use warden_store::{SqliteStore, Store};

use common::TempDir;

/// A store on a database file in a directory of its own.
struct SqliteHarness {
    // Declared first so the store closes before the directory goes.
    store: SqliteStore,
    dir: TempDir,
}

impl conformance::Harness for SqliteHarness {
    const USER_COLUMN: &'static str = "user";

    async fn new() -> Self {
        let dir = TempDir::new();
        let store = common::open(&dir).await;
        SqliteHarness { store, dir }
    }

    fn store(&self) -> &dyn Store {
        &self.store
    }

    async fn second_store(&self) -> Box<dyn Store> {
        Box::new(common::open(&self.dir).await)
    }

    async fn exec(&self, sql: &str) {
        let mut conn = common::connect(&self.dir).await;
        sqlx::query(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }

    async fn int(&self, sql: &str) -> i64 {
        let mut conn = common::connect(&self.dir).await;
        let value = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        value
    }

    async fn orphan_sessions(&self, user: &str) {
        let mut conn = common::connect(&self.dir).await;
        // Per connection, so the store's own connections keep enforcing the key.
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("DELETE FROM users WHERE name = ?")
            .bind(user)
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
}

conformance::suite!(SqliteHarness);
