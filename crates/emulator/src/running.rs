//! `.socket/<stage>/dev.json`: where a running `socket dev` of a project listens, so that other
//! commands (`socket send`) reach it without being told the address.
//!
//! The file holds the address and the process id; it is removed when `socket dev` stops, and a
//! file left by a killed `socket dev` is ignored because its process is gone.

use std::path::{Path, PathBuf};

/// The record of this process's `socket dev`; dropping it removes the file.
pub struct Running {
    path: PathBuf,
}

fn record_path(project: &Path, stage: &str) -> PathBuf {
    project.join(".socket").join(stage).join("dev.json")
}

impl Running {
    /// Writes the record for `origin` (`host:port`); `None` when it cannot be written (the
    /// emulator works without it: `socket send --local URL` still reaches it).
    pub fn record(project: &Path, stage: &str, origin: &str) -> Option<Running> {
        let path = record_path(project, stage);
        std::fs::create_dir_all(path.parent()?).ok()?;
        let record = serde_json::json!({
            "url": format!("http://{origin}"),
            "pid": std::process::id(),
        });
        std::fs::write(&path, record.to_string()).ok()?;
        Some(Running { path })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The URL of the `socket dev` running for `stage` of the project in `project`, if one is.
pub fn find(project: &Path, stage: &str) -> Option<String> {
    let text = std::fs::read_to_string(record_path(project, stage)).ok()?;
    let record: serde_json::Value = serde_json::from_str(&text).ok()?;
    let pid = record["pid"].as_u64()?;
    if !process_alive(pid) {
        return None;
    }
    record["url"].as_str().map(str::to_owned)
}

#[cfg(target_os = "linux")]
fn process_alive(pid: u64) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(not(target_os = "linux"))]
fn process_alive(pid: u64) -> bool {
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .map(|status| status.success())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_found_while_its_process_lives_and_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let running = Running::record(dir.path(), "dev", "127.0.0.1:4321").unwrap();
        assert_eq!(
            find(dir.path(), "dev").as_deref(),
            Some("http://127.0.0.1:4321")
        );
        assert_eq!(find(dir.path(), "prod"), None);
        drop(running);
        assert_eq!(find(dir.path(), "dev"), None);
    }

    #[test]
    fn a_record_left_by_a_dead_process_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = record_path(dir.path(), "dev");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // Process ids are below 2^22 on Linux: this one cannot exist.
        std::fs::write(&path, r#"{"url":"http://127.0.0.1:1","pid":99999999}"#).unwrap();
        assert_eq!(find(dir.path(), "dev"), None);
    }
}
