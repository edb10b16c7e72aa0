#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `[store]` and `[state]`: defaults, URLs by scheme, files and clusters, and every mistake
//! reported with its key and line.

use std::path::Path;
use std::time::Duration;

use warden_core::Config;
use warden_core::config::{StateBackend, StoreBackend, UrlSetting};

const HEAD: &str = "version = 1\n[server]\nlisten = \"127.0.0.1:1\"\nrealm = \"r\"\n";

fn parse(tail: &str) -> Config {
    Config::parse(&format!("{HEAD}{tail}"), Path::new("/etc/warden")).unwrap()
}

/// (key, line, message) of every issue.
fn issues(tail: &str) -> Vec<(String, usize, String)> {
    let errors = Config::parse(&format!("{HEAD}{tail}"), Path::new("/etc/warden")).unwrap_err();
    (errors.issues.into_iter())
        .map(|i| (i.key, i.line, i.message))
        .collect()
}

#[test]
fn defaults_are_the_embedded_store_and_in_process_state() {
    let config = parse("");
    let want = StoreBackend::Sqlite("/etc/warden/data/warden.db".into());
    assert_eq!(config.store.backend, want);
    assert_eq!(config.store.timeout, Duration::from_millis(2000));
    assert_eq!(config.state.backend, StateBackend::Memory);
    assert!(!config.state.is_shared());
    assert_eq!(config.state.key_prefix, "warden:");
    assert_eq!(config.state.timeout, Duration::from_millis(1000));
}

#[test]
fn postgres_and_redis_by_url() {
    let config = parse(
        "[store]\nurl = \"postgres://w@db:5432/w\"\ntimeout_ms = 500\n\
         [state]\nurl = \"rediss://cache:6380/2\"\nkey_prefix = \"prod:\"\n",
    );
    let url = UrlSetting::Inline("postgres://w@db:5432/w".into());
    assert_eq!(config.store.backend, StoreBackend::Postgres(url));
    assert_eq!(config.store.timeout, Duration::from_millis(500));
    let urls = vec![UrlSetting::Inline("rediss://cache:6380/2".into())];
    let cluster = false;
    assert_eq!(config.state.backend, StateBackend::Redis { urls, cluster });
    assert_eq!(config.state.key_prefix, "prod:");
}

#[test]
fn sqlite_url_is_a_file_relative_to_the_config() {
    let config = parse("[store]\nurl = \"sqlite://state/w.db\"\n");
    assert_eq!(
        config.store.backend,
        StoreBackend::Sqlite("/etc/warden/state/w.db".into())
    );
}

#[test]
fn urls_from_files_and_clusters_by_seed_nodes() {
    let config = parse(
        "[store]\nurl_file = \"secrets/pg\"\n[state]\nurls = [\"redis://a:7000\", \"redis://b:7000\"]\n",
    );
    let file = UrlSetting::File("/etc/warden/secrets/pg".into());
    assert_eq!(config.store.backend, StoreBackend::Postgres(file));
    let StateBackend::Redis { urls, cluster } = &config.state.backend else {
        panic!("expected redis");
    };
    assert!(cluster);
    assert_eq!(urls.len(), 2);
    assert!(config.state.is_shared());
}

#[test]
fn bad_backends_are_reported_with_key_and_line() {
    let found = issues(
        "[store]\nurl = \"mysql://db/w\"\ntimeout_ms = 0\n\
         [state]\nurl = \"http://cache\"\nkey_prefix = \"{x}\"\n",
    );
    let keys: Vec<(&str, usize)> = found.iter().map(|(k, l, _)| (k.as_str(), *l)).collect();
    assert_eq!(
        keys,
        [
            ("store.url", 6),
            ("store.timeout_ms", 7),
            ("state.url", 9),
            ("state.key_prefix", 10)
        ]
    );
    assert!(found[0].2.contains("postgres://"), "{}", found[0].2);
    assert!(found[2].2.contains("redis://"), "{}", found[2].2);
}

#[test]
fn one_way_to_name_each_backend() {
    let found = issues("[store]\nurl = \"postgres://db/w\"\nurl_file = \"f\"\n");
    assert_eq!(found[0].0, "store");
    assert!(found[0].2.contains("not both"), "{}", found[0].2);
    let found = issues("[state]\nurl = \"redis://a\"\nurls = [\"redis://b\"]\n");
    assert_eq!(found[0].0, "state");
    let found = issues("[state]\nurls = []\n");
    assert_eq!(found[0].0, "state.urls");
    let found = issues("[store]\nhost = \"db\"\n");
    assert!(
        found[0].2.contains("unknown field `host`"),
        "{}",
        found[0].2
    );
}
