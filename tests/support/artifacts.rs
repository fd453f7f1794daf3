//! Files a test keeps for people to look at (screenshots), under `target/test-artifacts/`.

use std::path::PathBuf;

use crate::workspace::target_dir;

/// Writes `bytes` to `target/test-artifacts/<name>` and returns the path.
pub fn keep(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = target_dir().join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("create target/test-artifacts");
    let path = dir.join(name);
    std::fs::write(&path, bytes)
        .unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
    path
}
