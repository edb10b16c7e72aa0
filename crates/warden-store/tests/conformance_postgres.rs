//! The conformance suite against PostgreSQL: a fresh schema per test, so tests run in parallel.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod conformance;

use warden_store::{PgStore, Store};

use common::pg::TestSchema;

/// A store whose connections use a schema of their own as search_path.
struct PgHarness {
    store: PgStore,
    schema: TestSchema,
}

impl conformance::Harness for PgHarness {
    const USER_COLUMN: &'static str = "user_name";

    async fn new() -> Self {
        let schema = TestSchema::new().await;
        PgHarness {
            store: schema.store(),
            schema,
        }
    }

    fn store(&self) -> &dyn Store {
        &self.store
    }

    async fn second_store(&self) -> Box<dyn Store> {
        Box::new(self.schema.store())
    }

    async fn exec(&self, sql: &str) {
        self.schema.exec(sql).await;
    }

    async fn int(&self, sql: &str) -> i64 {
        self.schema.int(sql).await
    }

    async fn orphan_sessions(&self, user: &str) {
        // Dropping the constraint is allowed to the table's owner; no superuser needed.
        self.schema
            .exec("ALTER TABLE sessions DROP CONSTRAINT sessions_user_name_fkey")
            .await;
        self.schema
            .exec(&format!("DELETE FROM users WHERE name = '{user}'"))
            .await;
    }
}

conformance::suite!(PgHarness);
