//! `server.watch`: reload when the configuration or a file it names changes. The parent
//! directories are watched, not the files: editors save by writing a new file and renaming it
//! over the old one, and Kubernetes swaps a ConfigMap by replacing a `..data` symlink, and
//! neither is seen by a watch on the old file.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};

use crate::live::Live;

/// Quiet time after the last event before the files are read: one save is many events.
const SETTLE: Duration = Duration::from_millis(200);

/// Watches until the process ends; `Err` when the directories cannot be watched.
pub fn start(live: Arc<Live>) -> notify::Result<()> {
    let (events, mut changed) = tokio::sync::mpsc::unbounded_channel::<()>();
    let (dirs, names) = watched(&live);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        // Other files in these directories (the audit file, say) change all the time.
        let ours = event.paths.iter().any(|p| relevant(p, &names));
        if ours && !event.kind.is_access() {
            let _ = events.send(());
        }
    })?;
    for dir in &dirs {
        watcher.watch(dir, RecursiveMode::NonRecursive)?;
    }
    tracing::info!(directories = ?dirs, "watching the configuration for changes");
    tokio::spawn(async move {
        // The watcher lives as long as this task: dropping it stops the events.
        let _watcher = watcher;
        while changed.recv().await.is_some() {
            settle(&mut changed).await;
            // A failure is logged, counted and shown by `reload` itself.
            let _ = live.reload_if_changed().await;
        }
    });
    Ok(())
}

/// Waits until no event came for [`SETTLE`].
async fn settle(changed: &mut tokio::sync::mpsc::UnboundedReceiver<()>) {
    while let Ok(Some(())) = tokio::time::timeout(SETTLE, changed.recv()).await {}
}

/// The directories holding the configuration and the files it names, and those files' names.
fn watched(live: &Live) -> (BTreeSet<PathBuf>, BTreeSet<OsString>) {
    let app = live.app();
    let files: Vec<PathBuf> = std::iter::once(live.path().to_owned())
        .chain(app.engine().config().watched_files())
        .collect();
    let names = files
        .iter()
        .filter_map(|f| f.file_name())
        .map(OsString::from);
    (files.iter().map(|f| parent(f)).collect(), names.collect())
}

/// A watched file, or a Kubernetes `..data` link (which is how a ConfigMap changes).
fn relevant(path: &Path, names: &BTreeSet<OsString>) -> bool {
    path.file_name()
        .is_some_and(|name| names.contains(name) || name.as_encoded_bytes().starts_with(b".."))
}

fn parent(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}
