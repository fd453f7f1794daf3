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
        let mut build = Command::new(env!("CARGO"));
        build
            .args(["build", "--workspace", "--all-targets"])
            .current_dir(workspace_root());
        without_test_variables(&mut build);
        let status = build
            .status()
            .expect("run cargo build --workspace --all-targets");
        assert!(
            status.success(),
            "cargo build --workspace --all-targets failed"
        );
        target_dir().join("debug")
    })
}

/// Removes the variables cargo sets for a test process (`CARGO_PKG_NAME`, `CARGO_MANIFEST_DIR`,
/// …) from a command that runs cargo: build scripts such as ring's declare
/// `rerun-if-env-changed` on them, so a build seeing them would rebuild those crates and all
/// above them, and the test command's next build would rebuild them back.
pub fn without_test_variables(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_for_tests = ["CARGO_PKG_", "CARGO_MANIFEST_", "CARGO_BIN_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            || [
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "OUT_DIR",
            ]
            .contains(&name.as_ref());
        if set_for_tests {
            command.env_remove(name.as_ref());
        }
    }
}

/// The `socket` binary.
pub fn socket_binary() -> PathBuf {
    built().join("socket")
}

/// An example's handler binary (`examples/<name>`), built for this machine.
pub fn example_binary(name: &str) -> PathBuf {
    built().join(name)
}
