//! Turning the handler crate into what runs: a static Linux `bootstrap` for Lambda, zipped
//! reproducibly, and a quickly rebuilt binary for `socket dev`.
//!
//! Lambda builds target `x86_64-unknown-linux-musl` / `aarch64-unknown-linux-musl`: a static binary
//! has no glibc version to mismatch with the Lambda image. The tuned profiles live in
//! [`profile`]; toolchain setup (Rust target, C cross-compiler, linker) in [`toolchain`], with
//! Zig ([`zig`]) where no C cross toolchain is installed.

mod cargo;
pub mod dev_target;
pub mod host;
pub mod packaging;
pub mod profile;
pub mod target_dir;
pub mod toolchain;
pub mod zig;
pub mod zip;

use std::path::{Path, PathBuf};

use miette::Diagnostic;

pub use dev_target::WorkerTarget;
use profile::Profile;
use socket_manifest::{Architecture, Manifest};
use socket_progress::Reporter;

/// A Lambda deployment package on disk.
#[derive(Clone, Debug)]
pub struct Package {
    /// `<manifest dir>/.socket/<stage>/bootstrap.zip`.
    pub zip: PathBuf,
    /// The zipped binary, copied beside the zip.
    pub bootstrap: PathBuf,
    /// Size of the zip in bytes.
    pub size: u64,
    pub sha256_hex: String,
    /// Base64 SHA-256 of the zip, comparable with Lambda's `CodeSha256`.
    pub code_sha256: String,
    pub architecture: Architecture,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum BuildError {
    #[error("no Cargo.toml in the handler crate folder {}", code.display())]
    #[diagnostic(
        code(socket::build::no_crate),
        help("set `code:` in serverless.yml to the handler crate's folder, or create one with `socket init`")
    )]
    NoCrate { code: PathBuf },

    #[error("{} holds no handler crate (a package with a binary target)", code.display())]
    #[diagnostic(
        code(socket::build::no_binary),
        help("point `code:` at the handler crate (a workspace root is not one); a handler crate is a binary: src/main.rs calling socket_runtime::run()")
    )]
    NoBinary { code: PathBuf },

    #[error("the crate in {} has several binaries: {}", code.display(), names.join(", "))]
    #[diagnostic(
        code(socket::build::several_binaries),
        help("name the handler's binary `bootstrap` (`[[bin]] name = \"bootstrap\"` in its Cargo.toml)")
    )]
    SeveralBinaries { code: PathBuf, names: Vec<String> },

    #[error("cannot run {program}: {source}")]
    #[diagnostic(
        code(socket::build::spawn),
        help("install Rust with rustup (https://rustup.rs) so that cargo and rustc are on PATH")
    )]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },

    #[error("the Rust target {target} is not installed: {detail}")]
    #[diagnostic(code(socket::build::target), help("run `rustup target add {target}`"))]
    TargetMissing { target: String, detail: String },

    #[error("cannot build for {target}: no C toolchain for it, and Zig could not be installed ({reason})")]
    #[diagnostic(code(socket::build::toolchain))]
    ToolchainMissing {
        target: String,
        reason: String,
        #[help]
        advice: String,
    },

    #[error("socket dev cannot build workers for the `{target}` target: {reason}")]
    #[diagnostic(
        code(socket::build::worker_target),
        help(
            "use `--worker-target host` (or SOCKET_DEV_WORKER_TARGET=host), or leave it at `auto`"
        )
    )]
    WorkerTarget {
        target: WorkerTarget,
        reason: String,
    },

    #[error("SOCKET_BUILD_WITH is `{value}`")]
    #[diagnostic(
        code(socket::build::build_with),
        help("set SOCKET_BUILD_WITH to `zig` (build with Zig through cargo-zigbuild), `cc` (the C toolchain) or `auto` (the C toolchain when installed, else Zig), or unset it")
    )]
    BuildWith { value: String },

    /// Cargo's own output has been printed above, as cargo rendered it.
    #[error("cargo build failed{}", code.map(|c| format!(" (exit code {c})")).unwrap_or_default())]
    #[diagnostic(code(socket::build::cargo))]
    CargoFailed {
        code: Option<i32>,
        /// Cargo's stderr, verbatim.
        output: String,
        #[help]
        advice: String,
    },

    #[error("cannot write {}: {source}", path.display())]
    #[diagnostic(
        code(socket::build::io),
        help("check that the project folder is writable")
    )]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl BuildError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BuildError + '_ {
        move |source| BuildError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The handler crate's Cargo.toml, or an error saying where it was looked for.
fn crate_manifest(manifest: &Manifest) -> Result<PathBuf, BuildError> {
    let path = manifest.code.join("Cargo.toml");
    if path.is_file() {
        // A workspace root alone would build every member; the handler is one crate.
        let text = std::fs::read_to_string(&path).map_err(BuildError::io(&path))?;
        if !text.lines().any(|l| l.trim() == "[package]") {
            return Err(BuildError::NoBinary {
                code: manifest.code.clone(),
            });
        }
        Ok(path)
    } else {
        Err(BuildError::NoCrate {
            code: manifest.code.clone(),
        })
    }
}

/// Replays cargo's stderr when it failed, so the user sees its errors as cargo printed them.
fn replay(result: Result<PathBuf, BuildError>) -> Result<PathBuf, BuildError> {
    if let Err(BuildError::CargoFailed { output, .. }) = &result {
        eprint!("{output}");
    }
    result
}

/// Builds the handler for this machine, for `socket dev`, and returns the executable.
///
/// On Linux the target is the same static musl target as the deployed binary, built with
/// [`Profile::Dev`] (same code and target, faster to rebuild); elsewhere, or when `target` is
/// [`WorkerTarget::Host`], the host's own target ([`dev_target`]).
pub fn build_for_dev(
    manifest: &Manifest,
    target: WorkerTarget,
    reporter: Reporter,
) -> Result<PathBuf, BuildError> {
    let manifest_path = crate_manifest(manifest)?;
    let arch = target
        .rust_target()
        .map_err(|reason| BuildError::WorkerTarget { target, reason })?;
    let label = match arch {
        Some(_) => "Building handler for socket dev".to_string(),
        None => "Building handler for socket dev (host target)".to_string(),
    };
    let step = reporter.step(&label);
    let result = (|| {
        let (target, env) = match arch {
            Some(host) => {
                toolchain::ensure_rust_target(host.rust_target(), &manifest.code)?;
                let mut env = toolchain::target_env(host);
                env.link_with_rust_lld(host.rust_target());
                (Some(host.rust_target()), env)
            }
            None => (None, toolchain::TargetEnv::default()),
        };
        let request = cargo::Request {
            manifest_path: &manifest_path,
            target,
            profile: Profile::Dev,
            builder: &toolchain::Builder::Cargo(env),
        };
        cargo::build(&request, &step, &label)
    })();
    match result {
        Ok(exe) => {
            step.done(exe.display().to_string());
            Ok(exe)
        }
        Err(e) => {
            step.failed();
            replay(Err(e))
        }
    }
}

/// Builds the Lambda binary for the function's architecture and zips it into
/// `<manifest dir>/.socket/<stage>/bootstrap.zip`.
pub fn package(manifest: &Manifest, reporter: Reporter) -> Result<Package, BuildError> {
    let manifest_path = crate_manifest(manifest)?;
    let arch = manifest.architecture;
    let target = arch.rust_target();
    let builder = toolchain::builder(arch, reporter)?;
    let with = match builder {
        toolchain::Builder::Cargo(_) => "",
        toolchain::Builder::Zig(_) => ", with Zig",
    };
    let label = format!("Building handler for Lambda ({arch}, {target}{with})");
    let step = reporter.step(&label);
    let built = (|| {
        toolchain::ensure_rust_target(target, &manifest.code)?;
        let request = cargo::Request {
            manifest_path: &manifest_path,
            target: Some(target),
            profile: Profile::Lambda,
            builder: &builder,
        };
        cargo::build(&request, &step, &label)
    })();
    let built = match built {
        Ok(exe) => {
            step.done("");
            exe
        }
        Err(e) => {
            step.failed();
            return replay(Err(e)).map(|_| unreachable!());
        }
    };

    let out_dir = manifest.output_dir();
    std::fs::create_dir_all(&out_dir).map_err(BuildError::io(&out_dir))?;
    let bootstrap = out_dir.join("bootstrap");
    let zip_path = out_dir.join("bootstrap.zip");
    let step = reporter.step("Packaging bootstrap.zip");
    // Copy through a temporary name: `socket dev` or a deploy may be reading the previous one.
    let tmp = out_dir.join("bootstrap.tmp");
    std::fs::copy(&built, &tmp).map_err(BuildError::io(&tmp))?;
    set_executable(&tmp).map_err(BuildError::io(&tmp))?;
    std::fs::rename(&tmp, &bootstrap).map_err(BuildError::io(&bootstrap))?;
    let written = zip::write(&bootstrap, &zip_path).map_err(BuildError::io(&zip_path))?;
    step.done(format!("{} KiB", written.size.div_ceil(1024)));
    Ok(Package {
        zip: zip_path,
        bootstrap,
        size: written.size,
        sha256_hex: written.sha256_hex,
        code_sha256: written.code_sha256,
        architecture: arch,
    })
}

#[cfg(unix)]
fn set_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
