//! Running `cargo build` (or `cargo-zigbuild zigbuild`, which takes the same arguments) on the
//! handler crate and finding the executable it produced.
//!
//! `--message-format=json-render-diagnostics` puts one JSON message per line on stdout (artifacts,
//! with their paths, so a workspace member's shared target dir needs no guessing) while cargo's
//! own human-readable output, errors included, goes to stderr exactly as cargo renders it. That
//! stderr is captured while the spinner runs and replayed verbatim when the build fails.

use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::profile::Profile;
use super::toolchain::Builder;
use super::BuildError;
use socket_progress::Step;

pub struct Request<'a> {
    /// The handler crate's Cargo.toml.
    pub manifest_path: &'a Path,
    /// `None`: the host's own target.
    pub target: Option<&'a str>,
    pub profile: Profile,
    pub builder: &'a Builder,
}

/// Builds and returns the path of the crate's binary.
pub fn build(request: &Request, step: &Step, label: &str) -> Result<PathBuf, BuildError> {
    let (mut cmd, cargo, missing_compiler) = match request.builder {
        Builder::Cargo(env) => {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
            let mut cmd = Command::new(&cargo);
            cmd.arg("build").envs(env.vars.iter().map(|(k, v)| (k, v)));
            (cmd, cargo, env.missing_compiler.as_deref())
        }
        Builder::Zig(zig) => (zig.command(), zig.program.display().to_string(), None),
    };
    cmd.arg("--manifest-path")
        .arg(request.manifest_path)
        .args(["--profile", request.profile.name()])
        .args(request.profile.config_args())
        .arg("--message-format=json-render-diagnostics");
    // cargo's stderr is captured, so cargo cannot tell it is for a terminal: say so, unless
    // the user asked for no colour (https://no-color.org).
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if std::io::stderr().is_terminal() && !no_color {
        cmd.arg("--color=always");
    }
    if let Some(target) = request.target {
        cmd.args(["--target", target]);
    }
    if let Some(shared) = super::target_dir::for_handler_builds() {
        cmd.env("CARGO_TARGET_DIR", shared);
    }
    if let Some(dir) = request.manifest_path.parent() {
        // A rust-toolchain.toml in the handler crate picks the toolchain, as with `cargo build` there.
        cmd.current_dir(dir);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| BuildError::Spawn {
        program: cargo.clone(),
        source,
    })?;

    let mut stderr = child.stderr.take().expect("piped");
    let stderr_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        text
    });

    let wanted =
        std::fs::canonicalize(request.manifest_path).unwrap_or(request.manifest_path.to_path_buf());
    let mut executables: Vec<(String, PathBuf)> = Vec::new();
    let mut compiled = 0usize;
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    for line in stdout.lines() {
        let Ok(line) = line else { break };
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        compiled += 1;
        if let Some(name) = msg["target"]["name"].as_str() {
            step.update(format!("{label} ({compiled} crates, {name})"));
        }
        let is_bin = msg["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "bin"));
        let ours = msg["manifest_path"]
            .as_str()
            .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| PathBuf::from(p)) == wanted)
            .unwrap_or(false);
        if let (true, true, Some(exe)) = (is_bin, ours, msg["executable"].as_str()) {
            let name = msg["target"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            executables.push((name, PathBuf::from(exe)));
        }
    }
    let status = child.wait().map_err(|source| BuildError::Spawn {
        program: cargo,
        source,
    })?;
    let stderr = stderr_reader.join().unwrap_or_default();
    if !status.success() {
        let output = String::from_utf8_lossy(&stderr).into_owned();
        let advice = advice(&output, missing_compiler);
        return Err(BuildError::CargoFailed {
            code: status.code(),
            output,
            advice,
        });
    }
    pick_binary(request.manifest_path, executables)
}

/// What to do after a failed build: install a missing C compiler, or fix the code.
fn advice(output: &str, missing_compiler: Option<&str>) -> String {
    // How cc-rs and rustc report a compiler or linker that is not there.
    let tool_missing = [
        "failed to find tool",
        "ToolNotFound",
        "linker `",
        "is not installed",
    ]
    .iter()
    .any(|s| output.contains(s))
        || (output.contains("fatal error:") && output.contains(".h: No such file"));
    match missing_compiler {
        Some(install) if tool_missing => format!(
            "a C compiler for the target is missing (crates such as ring compile C code): {install}, then build again"
        ),
        _ if tool_missing => "a C compiler or linker for the target is missing: see the cargo output above".to_string(),
        _ => "fix the errors cargo printed above, then run the command again".to_string(),
    }
}

/// The crate's one binary; with several, the one named `bootstrap`, else the package's namesake.
fn pick_binary(
    manifest_path: &Path,
    mut bins: Vec<(String, PathBuf)>,
) -> Result<PathBuf, BuildError> {
    let crate_dir = manifest_path
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    match bins.len() {
        0 => Err(BuildError::NoBinary { code: crate_dir }),
        1 => Ok(bins.remove(0).1),
        _ => {
            let package = package_name(manifest_path);
            let pos = bins.iter().position(|(n, _)| n == "bootstrap").or_else(|| {
                bins.iter().position(|(n, _)| {
                    Some(n.replace('-', "_")) == package.as_ref().map(|p| p.replace('-', "_"))
                })
            });
            match pos {
                Some(i) => Ok(bins.remove(i).1),
                None => Err(BuildError::SeveralBinaries {
                    code: crate_dir,
                    names: bins.into_iter().map(|(n, _)| n).collect(),
                }),
            }
        }
    }
}

/// `package.name` from a Cargo.toml, read without a TOML parser: the first `name =` after `[package]`.
fn package_name(manifest_path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(manifest_path).ok()?;
    let mut in_package = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package {
            if let Some(rest) = line.strip_prefix("name") {
                let value = rest
                    .trim_start()
                    .strip_prefix('=')?
                    .trim()
                    .trim_matches('"');
                return Some(value.to_string());
            }
        }
    }
    None
}
