//! Where the tests find the repository, its target folder and the binaries they run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository's root folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

/// Cargo's target folder (`CARGO_TARGET_DIR`, else `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// `target/debug/socket` and `target/debug/echo` (the echo example's handler for this machine),
/// built with cargo once per test process.
fn built() -> &'static (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "socket-cli", "-p", "echo"])
            .current_dir(workspace_root())
            .status()
            .expect("run cargo build -p socket-cli -p echo");
        assert!(status.success(), "cargo build -p socket-cli -p echo failed");
        let debug = target_dir().join("debug");
        (debug.join("socket"), debug.join("echo"))
    })
}

/// The `socket` binary.
pub fn socket_binary() -> PathBuf {
    built().0.clone()
}

/// The echo example's handler binary, built for this machine.
pub fn echo_binary() -> PathBuf {
    built().1.clone()
}
