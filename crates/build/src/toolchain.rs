//! What a static Linux build needs besides cargo: the Rust target, and a C compiler and linker
//! for crates with C code (`ring`, `aws-lc-sys`).
//!
//! The tool sets up what it safely can (a missing Rust target through `rustup target add`, the
//! `CC_*`/`AR_*`/linker variables for the compilers it finds) and leaves variables the user set
//! alone. Without a C toolchain for the target it builds with Zig instead ([`crate::zig`]);
//! what it cannot install, it names with the exact command for this machine ([`crate::host`]).

use std::path::Path;
use std::process::Command;

use super::{host, zig, BuildError};
use crate::zig::Zigbuild;
use socket_manifest::Architecture;
use socket_progress::Reporter;

/// Environment for cargo so the target's C code compiles and the binary links statically.
#[derive(Debug, Default)]
pub struct TargetEnv {
    pub vars: Vec<(String, String)>,
    /// When the C compiler (or its C library headers) is missing: what to install, for a help line.
    pub missing_compiler: Option<String>,
}

impl TargetEnv {
    /// Links with rustc's bundled lld, unless the user chose a linker for `target`: it links a
    /// static musl binary for any target with no cross binutils, and faster than the system
    /// linker (the echo example's rebuild in `socket dev`: 2.0 s with gcc, 1.2 s with it).
    pub fn link_with_rust_lld(&mut self, target: &str) {
        let var = linker_variable(target);
        if std::env::var_os(&var).is_none() && !self.vars.iter().any(|(name, _)| *name == var) {
            self.vars.push((var, "rust-lld".to_string()));
        }
    }
}

/// Cargo's variable naming the linker for `target`.
fn linker_variable(target: &str) -> String {
    format!(
        "CARGO_TARGET_{}_LINKER",
        target.replace('-', "_").to_uppercase()
    )
}

/// How a target is built: cargo with a C toolchain of this machine, or cargo-zigbuild.
#[derive(Debug)]
pub enum Builder {
    Cargo(TargetEnv),
    Zig(Zigbuild),
}

/// `SOCKET_BUILD_WITH`: `zig` always builds with Zig, `cc` never does, unset or `auto` uses the
/// C toolchain when one is installed and Zig otherwise.
pub const BUILD_WITH_VAR: &str = "SOCKET_BUILD_WITH";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BuildWith {
    Auto,
    Cc,
    Zig,
}

fn build_with() -> Result<BuildWith, BuildError> {
    let value = std::env::var(BUILD_WITH_VAR).unwrap_or_default();
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "auto" => Ok(BuildWith::Auto),
        "cc" => Ok(BuildWith::Cc),
        "zig" => Ok(BuildWith::Zig),
        _ => Err(BuildError::BuildWith { value }),
    }
}

/// How to build for `arch` here: the C toolchain when it is complete (the fast path: nothing
/// to install), else Zig, installed into the tool's cache when it is nowhere to be found.
/// Call it before a spinner starts: installing Zig prints.
pub fn builder(arch: Architecture, reporter: Reporter) -> Result<Builder, BuildError> {
    let with = build_with()?;
    let env = target_env(arch);
    if with == BuildWith::Cc || (with == BuildWith::Auto && env.missing_compiler.is_none()) {
        return Ok(Builder::Cargo(env));
    }
    if let Some(zig) = zig::find() {
        return Ok(Builder::Zig(zig));
    }
    match zig::install(reporter) {
        Ok(zig) => Ok(Builder::Zig(zig)),
        Err(reason) => Err(BuildError::ToolchainMissing {
            target: arch.rust_target().to_string(),
            reason,
            advice: host::install_advice(arch),
        }),
    }
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

/// A C compiler for another architecture: its `ar`, and a header it needs from a separate
/// package (Debian ships the cross C library apart from the compiler).
struct CrossCompiler {
    cc: &'static str,
    ar: &'static str,
    needs_header: Option<&'static str>,
}

/// Cross compilers for each target, in order of preference: Debian's `*-linux-gnu-gcc` (what
/// the tool has always used), then musl-cross's `*-linux-musl-gcc` (Homebrew, other distributions).
fn cross_compilers(arch: Architecture) -> [CrossCompiler; 2] {
    match arch {
        Architecture::X86_64 => [
            CrossCompiler {
                cc: "x86_64-linux-gnu-gcc",
                ar: "x86_64-linux-gnu-ar",
                needs_header: Some("/usr/x86_64-linux-gnu/include/stdint.h"),
            },
            CrossCompiler {
                cc: "x86_64-linux-musl-gcc",
                ar: "x86_64-linux-musl-ar",
                needs_header: None,
            },
        ],
        Architecture::Arm64 => [
            CrossCompiler {
                cc: "aarch64-linux-gnu-gcc",
                ar: "aarch64-linux-gnu-ar",
                needs_header: Some("/usr/aarch64-linux-gnu/include/stdint.h"),
            },
            CrossCompiler {
                cc: "aarch64-linux-musl-gcc",
                ar: "aarch64-linux-musl-ar",
                needs_header: None,
            },
        ],
    }
}

/// `musl-gcc` on PATH, or where Arch Linux's `musl` package puts it.
fn musl_gcc() -> Option<String> {
    if on_path("musl-gcc") {
        Some("musl-gcc".into())
    } else {
        let arch_linux = "/usr/lib/musl/bin/musl-gcc";
        Path::new(arch_linux).is_file().then(|| arch_linux.into())
    }
}

/// The `CC`/`AR`/linker settings for `arch` on this machine, and what to install when the C
/// compiler is missing.
pub fn target_env(arch: Architecture) -> TargetEnv {
    let target = arch.rust_target();
    let suffix = target.replace('-', "_");
    let cc_var = format!("CC_{suffix}");
    let ar_var = format!("AR_{suffix}");
    let user_set = |var: &str| std::env::var_os(var).is_some();
    let mut env = TargetEnv::default();
    let mut set = |var: &str, value: &str| {
        if !user_set(var) {
            env.vars.push((var.to_string(), value.to_string()));
        }
    };
    let install = || host::install_advice(arch);
    if host::native_linux() == Some(arch) {
        // The host's musl-gcc, else its gcc: gcc compiles C for musl well enough for ring and
        // friends, and rustc links with its own musl CRT objects.
        if let Some(musl_gcc) = musl_gcc() {
            set(&cc_var, &musl_gcc);
        } else if on_path("gcc") {
            set(&cc_var, "gcc");
        } else if !user_set(&cc_var) {
            env.missing_compiler = Some(install());
        }
        return env;
    }
    match cross_compilers(arch).into_iter().find(|c| on_path(c.cc)) {
        Some(cross) => {
            set(&cc_var, cross.cc);
            set(&ar_var, cross.ar);
            if cross.needs_header.is_some_and(|h| !Path::new(h).exists()) {
                env.missing_compiler = Some(install());
            }
        }
        None if !user_set(&cc_var) => env.missing_compiler = Some(install()),
        None => {}
    }
    env.link_with_rust_lld(target);
    env
}
