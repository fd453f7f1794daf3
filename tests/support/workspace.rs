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

/// The folder of the binaries built with cargo once per test process: `socket` and the
/// examples' handlers (`echo`, `chat`) for this machine. The same command as the test command's
/// build, so it finds everything fresh there (another feature selection would rebuild crates).
fn built() -> &'static PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--workspace", "--all-targets"])
            .current_dir(workspace_root())
            .status()
            .expect("run cargo build --workspace --all-targets");
        assert!(
            status.success(),
            "cargo build --workspace --all-targets failed"
        );
        target_dir().join("debug")
    })
}

/// The `socket` binary.
pub fn socket_binary() -> PathBuf {
    built().join("socket")
}

/// An example's handler binary (`examples/<name>`), built for this machine.
pub fn example_binary(name: &str) -> PathBuf {
    built().join(name)
}
