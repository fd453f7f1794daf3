//! `socket package` as a function: load the manifest, build and zip, summarise.

use std::path::Path;

use crate::{self as build, BuildError, Package};
use socket_manifest::{Manifest, ManifestError, Overrides};
use socket_progress::Reporter;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PackageError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Build(#[from] BuildError),
}

/// Loads the manifest, builds and zips; returns the package for the caller to print.
pub fn run(
    config: &Path,
    overrides: &Overrides,
    reporter: Reporter,
) -> Result<(Manifest, Package), PackageError> {
    let manifest = Manifest::load(config, overrides)?;
    for warning in manifest.warnings() {
        reporter.info(format!("warning: {warning}"));
    }
    let package = build::package(&manifest, reporter)?;
    Ok((manifest, package))
}

/// The package's path relative to the current folder when it is inside it.
fn shown_path(package: &Package) -> &Path {
    package
        .zip
        .strip_prefix(std::env::current_dir().unwrap_or_default())
        .unwrap_or(&package.zip)
}

/// What `socket package --json` prints: the same facts as [`summary`], plus the base64 digest
/// Lambda reports as `CodeSha256`.
pub fn json_summary(manifest: &Manifest, package: &Package) -> serde_json::Value {
    serde_json::json!({
        "package": shown_path(package),
        "bootstrap": package.bootstrap,
        "size": package.size,
        "sha256": package.sha256_hex,
        "codeSha256": package.code_sha256,
        "service": manifest.service,
        "stage": manifest.stage,
        "architecture": package.architecture.as_lambda(),
        "target": package.architecture.rust_target(),
    })
}

/// The lines `socket package` prints on stdout.
pub fn summary(manifest: &Manifest, package: &Package) -> String {
    let display = shown_path(package);
    format!(
        "package:  {}\nsize:     {} bytes ({:.2} MiB)\nsha256:   {}\nservice:  {} › {} ({}, {})\n",
        display.display(),
        package.size,
        package.size as f64 / (1024.0 * 1024.0),
        package.sha256_hex,
        manifest.service,
        manifest.stage,
        package.architecture,
        package.architecture.rust_target(),
    )
}
