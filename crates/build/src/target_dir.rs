//! Where handler builds go: one target folder for every socket project of this user, so a
//! second project compiles only its own crate. Its dependencies (tokio, hyper, rustls, ring,
//! serde, the runtime) are the same crates with the same features and the same `socket-dev` /
//! `socket-lambda` profiles in every project, and cargo keys each build by all of those, so
//! they are compiled once per machine instead of once per project (measured in BENCHMARKS.md,
//! "Second project").
//!
//! `CARGO_TARGET_DIR` set by the user wins (cargo reads it as usual); `SOCKET_TARGET_DIR` names
//! another shared folder.

use std::path::PathBuf;

/// The variable naming the shared folder instead of the default.
pub const SHARED_TARGET_VARIABLE: &str = "SOCKET_TARGET_DIR";

/// socket's cache: `$XDG_CACHE_HOME/socket`, else `~/.cache/socket`.
pub fn cache_dir() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let cache =
        absolute("XDG_CACHE_HOME").or_else(|| absolute("HOME").map(|h| h.join(".cache")))?;
    Some(cache.join("socket"))
}

/// The target folder to hand cargo, or `None` to leave cargo's own choice (the user's
/// `CARGO_TARGET_DIR`, or no cache folder to be found).
pub fn for_handler_builds() -> Option<PathBuf> {
    if std::env::var_os("CARGO_TARGET_DIR").is_some() {
        return None;
    }
    match std::env::var_os(SHARED_TARGET_VARIABLE) {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => cache_dir().map(|cache| cache.join("target")),
    }
}
