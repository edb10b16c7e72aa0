//! Shared helpers for the integration tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod pg;
pub mod redis;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection as _;
use warden_store::SqliteStore;

/// A fresh directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("warden-store-test-{}-{}", std::process::id(), n));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }

    /// Nested one level, to prove `open` creates missing directories.
    pub fn data(&self) -> PathBuf {
        self.0.join("data")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Owned role list from string literals.
pub fn roles(r: &[&str]) -> Vec<String> {
    r.iter().map(|s| (*s).to_owned()).collect()
}

/// Opens the store in the test directory.
pub async fn open(dir: &TempDir) -> SqliteStore {
    SqliteStore::open(&dir.data()).await.unwrap()
}

/// Simulates a database written by a future warden.
pub async fn set_user_version(dir: &TempDir, v: i64) {
    let url = format!("sqlite://{}", dir.data().join("warden.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query(&format!("PRAGMA user_version = {v}"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

/// The journal mode a fresh connection to the store's file reports.
pub async fn journal_mode(dir: &TempDir) -> String {
    let url = format!("sqlite://{}", dir.data().join("warden.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

/// A raw connection to the store's file, to inspect or prepare it behind the store's back.
pub async fn connect(dir: &TempDir) -> sqlx::SqliteConnection {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.data().join("warden.db"))
        .create_if_missing(true);
    sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap()
}
