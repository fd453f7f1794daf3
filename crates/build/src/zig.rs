//! Zig as the C compiler and linker for any target, through `cargo-zigbuild` (as cargo-lambda
//! does): the way to build static Linux binaries on a machine without a C cross toolchain
//! (a Mac, a Fedora laptop, a Debian box without `musl-tools`).
//!
//! `cargo-zigbuild` is taken from PATH, else from the tool's own cache
//! (`$XDG_CACHE_HOME/socket/zig-venv`, default `~/.cache/socket/zig-venv`), where it is installed
//! from PyPI (`ziglang` and `cargo-zigbuild` are wheels: no root, no compiler) after saying so.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::toolchain::on_path;
use socket_progress::Reporter;

/// A `cargo-zigbuild` that can run, and the Python whose `ziglang` package holds its Zig.
#[derive(Clone, Debug)]
pub struct Zigbuild {
    pub program: PathBuf,
    /// Set when Zig comes from a venv's `ziglang`: cargo-zigbuild runs `<python> -m ziglang`.
    pub python: Option<PathBuf>,
}

impl Zigbuild {
    /// `cargo-zigbuild zigbuild`, which takes the arguments of `cargo build`.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        if let Some(python) = &self.python {
            cmd.env("CARGO_ZIGBUILD_PYTHON_PATH", python);
        }
        cmd.arg("zigbuild");
        cmd
    }
}

/// Where the tool keeps its own Zig: `$XDG_CACHE_HOME/socket/zig-venv`, else `~/.cache/socket/zig-venv`.
pub fn cache_venv() -> Option<PathBuf> {
    crate::target_dir::cache_dir().map(|cache| cache.join("zig-venv"))
}

fn venv_program(venv: &Path, name: &str) -> PathBuf {
    let bin = if cfg!(windows) { "Scripts" } else { "bin" };
    venv.join(bin)
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// A usable cargo-zigbuild: on PATH (with `zig` on PATH, or the `ziglang` of the Python beside
/// it), else in the tool's cache.
pub fn find() -> Option<Zigbuild> {
    if let Some(program) = which("cargo-zigbuild") {
        let sibling_python = program.with_file_name("python3");
        if on_path("zig") || !sibling_python.is_file() {
            return Some(Zigbuild {
                program,
                python: None,
            });
        }
        return Some(Zigbuild {
            program,
            python: Some(sibling_python),
        });
    }
    let venv = cache_venv()?;
    let program = venv_program(&venv, "cargo-zigbuild");
    let python = venv_program(&venv, "python3");
    (program.is_file() && python.is_file()).then_some(Zigbuild {
        program,
        python: Some(python),
    })
}

/// Installs `ziglang` and `cargo-zigbuild` from PyPI into the cache venv, saying so first.
/// The error is why it could not (no python3, no venv module, pip failed).
pub fn install(reporter: Reporter) -> Result<Zigbuild, String> {
    let venv = cache_venv().ok_or("neither XDG_CACHE_HOME nor HOME is set")?;
    if !on_path("python3") {
        return Err("python3 is not installed, so socket cannot install Zig itself".into());
    }
    // Said even in --json mode: this writes to the user's disk and downloads from PyPI.
    eprintln!(
        "socket: Zig is not installed; installing it with cargo-zigbuild (PyPI packages ziglang, cargo-zigbuild) into {}",
        venv.display()
    );
    let step = reporter.step("Installing Zig and cargo-zigbuild");
    let run = |cmd: &mut Command, what: &str| -> Result<(), String> {
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {what}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            Err(format!("{what} failed: {}", stderr.trim()))
        }
    };
    let result = (|| {
        if !venv_program(&venv, "python3").is_file() {
            run(
                Command::new("python3").arg("-m").arg("venv").arg(&venv),
                "python3 -m venv",
            )?;
        }
        run(
            Command::new(venv_program(&venv, "pip")).args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "ziglang",
                "cargo-zigbuild",
            ]),
            "pip install ziglang cargo-zigbuild",
        )
    })();
    match result {
        Ok(()) => step.done(venv.display().to_string()),
        Err(e) => {
            step.failed();
            return Err(e);
        }
    }
    find().ok_or_else(|| {
        format!(
            "cargo-zigbuild is not in {} after installing it",
            venv.display()
        )
    })
}

/// The full path of `program` on PATH.
fn which(program: &str) -> Option<PathBuf> {
    let name = format!("{program}{}", std::env::consts::EXE_SUFFIX);
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(&name))
        .find(|path| path.is_file())
}
