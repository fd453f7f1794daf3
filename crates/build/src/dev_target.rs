//! What `socket dev` builds its workers for.
//!
//! On Linux the workers are the deployed target itself (static musl, the host's architecture),
//! so the emulator runs what Lambda runs. Elsewhere (macOS, Windows) a Linux binary cannot run,
//! so the workers are built for the host's own target: the same handler code, the same runtime
//! and the same Runtime API protocol, only compiled for this machine.

use std::fmt;
use std::str::FromStr;

use socket_manifest::Architecture;

/// The environment variable that chooses the worker target when `--worker-target` is absent.
pub const WORKER_TARGET_VARIABLE: &str = "SOCKET_DEV_WORKER_TARGET";

/// The target `socket dev` builds the handler for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WorkerTarget {
    /// The static Linux musl target of the host's architecture where it runs (Linux), else the
    /// host's own target.
    #[default]
    Auto,
    /// The static Linux musl target of the host's architecture (Linux only).
    Lambda,
    /// The host's own default target (`cargo build` without `--target`).
    Host,
}

impl WorkerTarget {
    /// The Rust target to pass to cargo: `None` builds for the host's own target.
    pub fn rust_target(self) -> Result<Option<Architecture>, String> {
        let native = crate::host::native_linux();
        match (self, native) {
            (WorkerTarget::Auto | WorkerTarget::Lambda, Some(arch)) => Ok(Some(arch)),
            (WorkerTarget::Auto | WorkerTarget::Host, _) => Ok(None),
            (WorkerTarget::Lambda, None) => Err(format!(
                "a static Linux binary cannot run on this {} host",
                std::env::consts::OS
            )),
        }
    }
}

impl FromStr for WorkerTarget {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Ok(WorkerTarget::Auto),
            "lambda" | "musl" => Ok(WorkerTarget::Lambda),
            "host" => Ok(WorkerTarget::Host),
            other => Err(format!(
                "unknown worker target `{other}`: use `auto`, `lambda` or `host`"
            )),
        }
    }
}

impl fmt::Display for WorkerTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WorkerTarget::Auto => "auto",
            WorkerTarget::Lambda => "lambda",
            WorkerTarget::Host => "host",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_back() {
        for target in [WorkerTarget::Auto, WorkerTarget::Lambda, WorkerTarget::Host] {
            assert_eq!(target.to_string().parse::<WorkerTarget>(), Ok(target));
        }
        assert_eq!("musl".parse::<WorkerTarget>(), Ok(WorkerTarget::Lambda));
        assert!("wasm"
            .parse::<WorkerTarget>()
            .unwrap_err()
            .contains("`host`"));
    }

    #[test]
    fn host_never_asks_for_a_target_and_auto_follows_the_os() {
        assert_eq!(WorkerTarget::Host.rust_target(), Ok(None));
        let native = crate::host::native_linux();
        assert_eq!(WorkerTarget::Auto.rust_target(), Ok(native));
        assert_eq!(
            WorkerTarget::Lambda.rust_target().is_err(),
            native.is_none()
        );
    }
}
