//! `warden user …` and `warden key …`: thin calls into the store.

use std::io::Read as _;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use warden_core::Config;
use warden_server::backends;
use warden_store::{RedisState, Revocation, Store, StoreError};

use crate::cli::{KeyCommand, SessionCommand, UserCommand};

/// The configured store, and Redis to tell running replicas about revocations.
struct Admin {
    store: Arc<dyn Store>,
    redis: Option<Arc<RedisState>>,
    setting: &'static str,
}

async fn open(config: &Config) -> anyhow::Result<Admin> {
    Ok(Admin {
        store: backends::store(config).await?,
        redis: backends::redis(config)?,
        setting: backends::store_setting(config),
    })
}

impl Admin {
    /// A store error, naming the setting when the store itself failed.
    fn fail(&self, error: StoreError) -> anyhow::Error {
        if error.is_unavailable() {
            anyhow::anyhow!("the store (`{}`) cannot be used: {error}", self.setting)
        } else {
            error.into()
        }
    }

    /// Tells every running replica to forget what was revoked; without it they still see the
    /// change within a second.
    async fn broadcast(&self, revocation: Revocation) {
        if let Some(redis) = &self.redis
            && let Err(e) = redis.publish(&revocation).await
        {
            eprintln!(
                "warning: running servers were not told at once ({e}); they see the change within 1 s"
            );
        }
    }
}

/// Runs a user command.
pub async fn user(config: Config, command: UserCommand) -> anyhow::Result<ExitCode> {
    let admin = open(&config).await?;
    let store = &admin.store;
    let fail = |e| admin.fail(e);
    match command {
        UserCommand::Add { name, roles, .. } => {
            let password = read_password()?;
            store
                .add_user(&name, &password, &roles)
                .await
                .map_err(fail)?;
            println!("added user `{name}`");
        }
        UserCommand::List => {
            let users = store.list_users().await.map_err(fail)?;
            println!("{:<24} {:<9} ROLES", "NAME", "STATUS");
            for u in users {
                let status = if u.disabled { "disabled" } else { "active" };
                println!("{:<24} {status:<9} {}", u.name, u.roles.join(","));
            }
        }
        UserCommand::Disable { name } => {
            store.set_user_disabled(&name, true).await.map_err(fail)?;
            admin.broadcast(Revocation::Subject(name.clone())).await;
            println!("disabled user `{name}`");
        }
        UserCommand::Enable { name } => {
            store.set_user_disabled(&name, false).await.map_err(fail)?;
            println!("enabled user `{name}`");
        }
        UserCommand::Passwd { name, .. } => {
            let password = read_password()?;
            store.set_password(&name, &password).await.map_err(fail)?;
            admin.broadcast(Revocation::Subject(name.clone())).await;
            println!("changed the password of `{name}`");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a key command.
pub async fn key(config: Config, command: KeyCommand) -> anyhow::Result<ExitCode> {
    let admin = open(&config).await?;
    let store = &admin.store;
    let fail = |e| admin.fail(e);
    match command {
        KeyCommand::Create { name, roles } => {
            let key = store.create_api_key(&name, &roles).await.map_err(fail)?;
            eprintln!(
                "created key {} for `{name}`; it is shown once, store it now:",
                key.id
            );
            println!("{}", key.plaintext);
        }
        KeyCommand::List => {
            let keys = store.list_api_keys().await.map_err(fail)?;
            println!("{:<14} {:<24} {:<8} ROLES", "ID", "NAME", "STATUS");
            for k in keys {
                let status = if k.revoked { "revoked" } else { "active" };
                println!(
                    "{:<14} {:<24} {status:<8} {}",
                    k.id,
                    k.name,
                    k.roles.join(",")
                );
            }
        }
        KeyCommand::Revoke { id } => {
            store.revoke_api_key(&id).await.map_err(fail)?;
            admin.broadcast(Revocation::Key(id.clone())).await;
            println!("revoked key {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a session command.
pub async fn session(config: Config, command: SessionCommand) -> anyhow::Result<ExitCode> {
    let admin = open(&config).await?;
    let store = &admin.store;
    let fail = |e| admin.fail(e);
    match command {
        SessionCommand::List => {
            let now = i64::try_from(warden_server::now_unix())?;
            let sessions = store.list_sessions(now).await.map_err(fail)?;
            println!(
                "{:<14} {:<24} {:<20} {:<20} EXPIRES",
                "ID", "USER", "SIGNED IN", "LAST SEEN"
            );
            for s in sessions {
                // A provider's subject is not a local user: say whose it is.
                let user = match &s.provider {
                    Some(provider) => format!("{} ({provider})", s.user),
                    None => s.user.clone(),
                };
                println!(
                    "{:<14} {:<24} {:<20} {:<20} {}",
                    s.id,
                    user,
                    timestamp(s.created_at),
                    timestamp(s.last_seen),
                    timestamp(s.expires_at)
                );
            }
        }
        SessionCommand::Revoke { id: Some(id), .. } => {
            store.revoke_session(&id).await.map_err(fail)?;
            admin.broadcast(Revocation::Session(id.clone())).await;
            println!("ended session {id}");
        }
        SessionCommand::Revoke {
            user: Some(user), ..
        } => {
            let n = store.revoke_user_sessions(&user).await.map_err(fail)?;
            admin.broadcast(Revocation::Subject(user.clone())).await;
            println!("ended {n} session(s) of `{user}`");
        }
        SessionCommand::Revoke { .. } => anyhow::bail!("name a session id or `--user NAME`"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS` UTC (civil-from-days, no date crate needed).
fn timestamp(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// One line from standard input, without its line ending; empty passwords are refused.
fn read_password() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the password from standard input")?;
    let password = input.lines().next().unwrap_or("").to_owned();
    anyhow::ensure!(!password.is_empty(), "the password is empty");
    Ok(password)
}

/// Runs `warden migrate`: brings the configured store's schema to this build's version.
pub async fn migrate(config: Config) -> anyhow::Result<ExitCode> {
    use warden_core::config::StoreBackend;
    match &config.store.backend {
        StoreBackend::Postgres(url) => {
            let store = backends::postgres(url, &config.store)?;
            let setting = backends::store_setting(&config);
            let failed =
                |e: StoreError| anyhow::anyhow!("the store (`{setting}`) cannot be migrated: {e}");
            let before = store.schema_version().await.map_err(failed)?;
            store.migrate().await.map_err(failed)?;
            let after = store.schema_version().await.map_err(failed)?;
            println!("postgresql schema: version {before} -> {after}");
        }
        StoreBackend::Sqlite(file) => {
            // Opening the file migrates it.
            open(&config).await?;
            println!("sqlite store `{}`: schema up to date", file.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_utc_civil_dates() {
        assert_eq!(super::timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(super::timestamp(1_800_000_000), "2027-01-15 08:00:00");
        assert_eq!(super::timestamp(951_782_400), "2000-02-29 00:00:00");
    }
}
