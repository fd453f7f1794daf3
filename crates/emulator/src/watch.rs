//! Rebuild on save: watches the handler crate, rebuilds it, and swaps the workers.
//!
//! Open WebSocket connections are untouched: only the worker processes behind them change. A
//! build that fails is shown and the previous workers keep serving.

use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::binaries::Binaries;
use super::output;
use super::workers::Pool;

/// Edits closer together than this are one change (an editor's save, a `git checkout`): an
/// editor's write-and-rename lands within a few milliseconds, and every millisecond here is
/// waited on each save.
const SETTLE: Duration = Duration::from_millis(100);

/// Builds the handler crate; the error is already rendered for a person to read.
pub type Rebuild = Arc<dyn Fn() -> Result<PathBuf, String> + Send + Sync>;

/// Starts watching `code`. The watcher stops when the returned handle is dropped.
pub fn start(
    code: &Path,
    rebuild: Rebuild,
    binaries: Arc<Mutex<Binaries>>,
    pool: Arc<Pool>,
) -> notify::Result<WatchHandle> {
    let (changes, mut changed) = mpsc::unbounded_channel();
    let root = code.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        let relevant = matches!(
            event.kind,
            EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_)
        ) && event
            .paths
            .iter()
            .any(|path| !is_ignored(path.strip_prefix(&root).unwrap_or(path)));
        if relevant {
            let _ = changes.send(event.paths);
        }
    })?;
    watcher.watch(code, RecursiveMode::Recursive)?;
    let task = tokio::spawn(async move {
        while let Some(paths) = changed.recv().await {
            // Let a burst of writes settle into one rebuild.
            while let Ok(Some(_)) = tokio::time::timeout(SETTLE, changed.recv()).await {}
            let what = paths
                .first()
                .and_then(|path| path.file_name())
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            output::line("watch", &format!("{what} changed; rebuilding"));
            let rebuild = Arc::clone(&rebuild);
            match tokio::task::spawn_blocking(move || rebuild()).await {
                Ok(Ok(built)) => match binaries.lock().expect("binaries lock").stage(&built) {
                    Ok(staged) => {
                        pool.replace_binary(staged);
                        output::line(
                            "watch",
                            "rebuilt; workers replaced (open connections are kept)",
                        );
                    }
                    Err(error) => output::line(
                        "watch",
                        &format!("cannot copy {}: {error}", built.display()),
                    ),
                },
                Ok(Err(report)) => {
                    output::line("watch", "build failed; the previous workers keep serving");
                    output::plain(&report);
                }
                Err(_) => output::line(
                    "watch",
                    "the build panicked; the previous workers keep serving",
                ),
            }
            // Changes made during the build (including the build's own) start one more round
            // only if they touch sources.
            while changed.try_recv().is_ok() {}
        }
    });
    Ok(WatchHandle {
        _watcher: watcher,
        task,
    })
}

/// Keeps the watcher alive; dropping it stops watching.
pub struct WatchHandle {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Build output, VCS data and editor droppings do not trigger a rebuild (`path` is relative
/// to the watched folder, so a project inside a hidden folder still rebuilds).
fn is_ignored(path: &Path) -> bool {
    let in_ignored_folder = path.components().any(|component| match component {
        Component::Normal(name) => {
            let name = name.to_string_lossy();
            name == "target" || name == "node_modules" || name.starts_with('.')
        }
        _ => false,
    });
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    in_ignored_folder || name.ends_with('~') || name.ends_with(".swp") || name.ends_with(".swx")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_output_and_hidden_files_are_ignored() {
        assert!(is_ignored(Path::new("target/debug/bootstrap")));
        assert!(is_ignored(Path::new(".git/index")));
        assert!(is_ignored(Path::new("src/.main.rs.swp")));
        assert!(!is_ignored(Path::new("src/main.rs")));
        assert!(!is_ignored(Path::new("Cargo.toml")));
    }
}
