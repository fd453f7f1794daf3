//! What a static Linux build needs besides cargo: the Rust target, and a C compiler and linker
//! for crates with C code (`ring`, `aws-lc-sys`).
//!
//! The tool sets up what it safely can (a missing Rust target through `rustup target add`, the
//! `CC_*`/`AR_*`/linker variables for the compilers it finds) and leaves variables the user set
//! alone. What it cannot install, it names with the exact command.

use std::path::Path;
use std::process::Command;

use super::BuildError;
use socket_manifest::Architecture;

/// Debian/Ubuntu packages of the arm64 cross C compiler and its C library headers.
const ARM64_PACKAGES: &str = "sudo apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross";

/// Environment for cargo so the target's C code compiles and the binary links statically.
#[derive(Debug, Default)]
pub struct TargetEnv {
    pub vars: Vec<(String, String)>,
    /// The command that installs a missing C cross-compiler, when one is missing.
    pub missing_compiler: Option<String>,
}

pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

/// Installs the Rust target when the toolchain that builds `code` lacks it.
pub fn ensure_rust_target(target: &str, code: &Path) -> Result<(), BuildError> {
    let libdir = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", target])
        .current_dir(code)
        .output()
        .map_err(|source| BuildError::Spawn {
            program: "rustc".into(),
            source,
        })?;
    let libdir = String::from_utf8_lossy(&libdir.stdout).trim().to_string();
    let installed = !libdir.is_empty()
        && std::fs::read_dir(&libdir)
            .map(|d| {
                d.flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
            })
            .unwrap_or(false);
    if installed {
        return Ok(());
    }
    if !on_path("rustup") {
        return Err(BuildError::TargetMissing {
            target: target.to_string(),
            detail: "rustup is not installed, so the target cannot be added automatically".into(),
        });
    }
    let out = Command::new("rustup")
        .args(["target", "add", target])
        .current_dir(code)
        .output()
        .map_err(|source| BuildError::Spawn {
            program: "rustup".into(),
            source,
        })?;
    if !out.status.success() {
        return Err(BuildError::TargetMissing {
            target: target.to_string(),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// The `CC`/`AR`/linker settings for `arch` on this machine.
pub fn target_env(arch: Architecture) -> TargetEnv {
    let host = Architecture::host();
    let target = arch.rust_target();
    let suffix = target.replace('-', "_");
    let cc_var = format!("CC_{suffix}");
    let ar_var = format!("AR_{suffix}");
    let linker_var = format!("CARGO_TARGET_{}_LINKER", suffix.to_uppercase());
    let user_set = |var: &str| std::env::var_os(var).is_some();
    let mut env = TargetEnv::default();
    let mut set = |var: &str, value: &str| {
        if !user_set(var) {
            env.vars.push((var.to_string(), value.to_string()));
        }
    };
    match arch {
        Architecture::X86_64 => {
            if on_path("musl-gcc") {
                set(&cc_var, "musl-gcc");
            } else if host == Some(Architecture::X86_64) && on_path("gcc") {
                // The host gcc compiles C for musl well enough for ring and friends; rustc links
                // with its own musl CRT objects.
                set(&cc_var, "gcc");
            } else if !user_set(&cc_var) {
                env.missing_compiler = Some("sudo apt-get install musl-tools".into());
            }
        }
        Architecture::Arm64 => {
            if host == Some(Architecture::Arm64) {
                if on_path("musl-gcc") {
                    set(&cc_var, "musl-gcc");
                } else if on_path("gcc") {
                    set(&cc_var, "gcc");
                }
            } else {
                if on_path("aarch64-linux-gnu-gcc") {
                    set(&cc_var, "aarch64-linux-gnu-gcc");
                    set(&ar_var, "aarch64-linux-gnu-ar");
                    // The compiler alone has no C headers; Debian ships them separately.
                    if !Path::new("/usr/aarch64-linux-gnu/include/stdint.h").exists() {
                        env.missing_compiler = Some(ARM64_PACKAGES.into());
                    }
                } else if !user_set(&cc_var) {
                    env.missing_compiler = Some(ARM64_PACKAGES.into());
                }
                // rustc's bundled lld links a static musl binary for any target, no cross binutils needed.
                set(&linker_var, "rust-lld");
            }
        }
    }
    env
}
