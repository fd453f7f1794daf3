//! What a stage's last deploy recorded, at `<project>/.socket/<stage>/state.json`, and the lock
//! that keeps two deploys (or a deploy and a remove) of one stage from interleaving.
//!
//! State is a cache of resource ids, never the truth: deploy and remove check every recorded
//! resource against AWS and fall back to names and tags, so a stale or deleted state file is
//! harmless. It holds no secrets (environment variable names only, no values).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub const STATE_VERSION: u32 = 1;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub version: u32,
    pub service: String,
    pub stage: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<RoleState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission: Option<PermissionState>,
    /// Seconds since the epoch of the last write.
    #[serde(default)]
    pub updated_at: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleState {
    pub name: String,
    pub arn: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiState {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_id: Option<String>,
    /// Route key → route id.
    #[serde(default)]
    pub routes: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionState {
    pub name: String,
    pub arn: String,
    pub code_sha256: String,
    /// Names only: values may be secrets.
    #[serde(default)]
    pub env: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionState {
    pub statement_id: String,
    pub source_arn: String,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StateError {
    #[error("cannot write {}: {source}", path.display())]
    #[diagnostic(
        code(socket::state::write),
        help("socket keeps what it deployed under `.socket/` next to the manifest; make that folder writable")
    )]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "another `socket {command}` of stage `{stage}` is running (pid {pid}, started {age} ago)"
    )]
    #[diagnostic(
        code(socket::state::locked),
        help("wait for it to finish, then run this command again; two runs at once could create duplicates")
    )]
    Locked {
        stage: String,
        command: String,
        pid: String,
        age: String,
    },
}

/// `<dir>/.socket/<stage>/`.
pub fn stage_dir(project_dir: &Path, stage: &str) -> PathBuf {
    project_dir.join(".socket").join(stage)
}

pub fn state_path(project_dir: &Path, stage: &str) -> PathBuf {
    stage_dir(project_dir, stage).join("state.json")
}

impl State {
    pub fn new(service: &str, stage: &str, region: &str) -> Self {
        State {
            version: STATE_VERSION,
            service: service.to_owned(),
            stage: stage.to_owned(),
            region: region.to_owned(),
            ..State::default()
        }
    }

    /// The recorded state of this stage, if any. A file that cannot be read or parsed, or that
    /// belongs to another service or region, counts as absent: the resources' tags are the truth.
    pub fn load(project_dir: &Path, service: &str, stage: &str, region: &str) -> Option<State> {
        let text = fs::read_to_string(state_path(project_dir, stage)).ok()?;
        let state: State = serde_json::from_str(&text).ok()?;
        (state.service == service && state.stage == stage && state.region == region)
            .then_some(state)
    }

    /// Writes atomically (temporary file + rename), so a killed process never leaves half a file.
    pub fn save(&mut self, project_dir: &Path) -> Result<(), StateError> {
        self.updated_at = now();
        let path = state_path(project_dir, &self.stage);
        let write = || -> std::io::Result<()> {
            fs::create_dir_all(path.parent().expect("state path has a parent"))?;
            let tmp = path.with_extension("json.tmp");
            let mut file = File::create(&tmp)?;
            file.write_all(
                serde_json::to_string_pretty(self)
                    .expect("state serializes")
                    .as_bytes(),
            )?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|source| StateError::Write { path, source })
    }

    pub fn delete(project_dir: &Path, stage: &str) -> Result<bool, StateError> {
        let path = state_path(project_dir, stage);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(StateError::Write { path, source }),
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Exclusive use of a stage by one process, held until dropped.
///
/// An OS advisory lock (`flock`) on `.socket/<stage>/lock`: the OS releases it when the process
/// ends however it ends (a killed deploy never leaves a stale lock). The file also records who
/// holds it, for the message the second process shows. The file itself is never deleted, since
/// deleting a lock file while another process opens it would let two holders in.
#[derive(Debug)]
pub struct StageLock {
    _file: File,
}

impl StageLock {
    pub fn acquire(
        project_dir: &Path,
        stage: &str,
        command: &str,
    ) -> Result<StageLock, StateError> {
        let dir = stage_dir(project_dir, stage);
        let path = dir.join("lock");
        let io = |source| StateError::Write {
            path: path.clone(),
            source,
        };
        fs::create_dir_all(&dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        if !try_lock(&file).map_err(io)? {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let mut fields = holder.split_whitespace();
            let pid = fields.next().unwrap_or("?").to_owned();
            let other = fields.next().unwrap_or("deploy").to_owned();
            let since = fields
                .next()
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or_else(now);
            let age = socket_progress::format_duration(std::time::Duration::from_secs(
                now().saturating_sub(since),
            ));
            return Err(StateError::Locked {
                stage: stage.to_owned(),
                command: other,
                pid,
                age,
            });
        }
        file.set_len(0).map_err(io)?;
        file.write_all(format!("{} {command} {}\n", std::process::id(), now()).as_bytes())
            .map_err(io)?;
        Ok(StageLock { _file: file })
    }
}

#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file descriptor this process owns for the lifetime of `file`.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    if err.kind() == std::io::ErrorKind::WouldBlock {
        Ok(false)
    } else {
        Err(err)
    }
}

/// Without `flock`, concurrent runs are not detected (documented limitation off Unix).
#[cfg(not(unix))]
fn try_lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("socket-state-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn state_round_trips_and_ignores_other_regions() {
        let dir = temp_dir("roundtrip");
        let mut state = State::new("echo", "dev", "us-east-1");
        state.api = Some(ApiState {
            id: "abc".into(),
            ..ApiState::default()
        });
        state.save(&dir).unwrap();
        let loaded = State::load(&dir, "echo", "dev", "us-east-1").unwrap();
        assert_eq!(loaded, state);
        assert!(State::load(&dir, "echo", "dev", "eu-west-1").is_none());
        assert!(State::delete(&dir, "dev").unwrap());
        assert!(!State::delete(&dir, "dev").unwrap());
        assert!(State::load(&dir, "echo", "dev", "us-east-1").is_none());
    }

    #[test]
    fn a_second_lock_on_the_same_stage_is_refused_until_the_first_is_dropped() {
        let dir = temp_dir("lock");
        let first = StageLock::acquire(&dir, "prod", "deploy").unwrap();
        // flock locks belong to the open file description, so a second open conflicts even
        // within one process, just as a second process would.
        let err = StageLock::acquire(&dir, "prod", "remove").unwrap_err();
        assert!(
            matches!(&err, StateError::Locked { command, .. } if command == "deploy"),
            "{err}"
        );
        let other_stage = StageLock::acquire(&dir, "dev", "deploy");
        assert!(other_stage.is_ok());
        drop(first);
        assert!(StageLock::acquire(&dir, "prod", "remove").is_ok());
    }
}
