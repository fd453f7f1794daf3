//! The Lambda package: a static ELF for each architecture, reproducible zips, and a project from
//! `socket init` that packages as is.
//!
//! These build for real (release, LTO), so there are few of them and they share the workspace's
//! target folder: the echo example's dependencies are compiled once per architecture.

mod support;

use std::path::Path;
use std::process::Command;

use support::{assert_static_elf, bootstrap_from_zip, workspace, write_echo_manifest};

use socket_build as build;
use socket_manifest::{Architecture, Manifest, Overrides};
use socket_progress::Reporter;

/// A manifest outside the repository whose handler is the echo example.
fn echo_manifest(dir: &Path, arch: &str) -> Manifest {
    let path = write_echo_manifest(dir, arch);
    Manifest::load(&path, &Overrides::default()).unwrap()
}

fn package_twice_and_check(arch: &str, machine: u16) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = echo_manifest(dir.path(), arch);
    let first = build::package(&manifest, Reporter::Quiet).unwrap();
    assert_eq!(first.zip, dir.path().join(".socket/dev/bootstrap.zip"));
    assert_eq!(first.size, std::fs::metadata(&first.zip).unwrap().len());
    assert_eq!(first.architecture.as_lambda(), arch);
    let binary = bootstrap_from_zip(&first.zip);
    assert_eq!(binary, std::fs::read(&first.bootstrap).unwrap());
    assert_static_elf(&binary, machine);

    // Unchanged code, from scratch output folder: the same bytes.
    std::fs::remove_dir_all(dir.path().join(".socket")).unwrap();
    let second = build::package(&manifest, Reporter::Quiet).unwrap();
    assert_eq!(first.sha256_hex, second.sha256_hex);
    assert_eq!(first.code_sha256, second.code_sha256);
    // CodeSha256 is the base64 of the same digest.
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&first.code_sha256)
        .unwrap();
    assert_eq!(hex::encode(raw), first.sha256_hex);
}

#[test]
fn arm64_package_is_a_static_aarch64_elf_and_reproducible() {
    package_twice_and_check("arm64", 0xB7);
}

#[test]
fn x86_64_package_is_a_static_x86_64_elf_and_reproducible() {
    package_twice_and_check("x86_64", 0x3E);
}

fn socket(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_socket"))
        .args(args)
        .current_dir(dir)
        // Share compiled dependencies with the workspace's own builds.
        .env("CARGO_TARGET_DIR", workspace().join("target"))
        .output()
        .unwrap()
}

#[test]
fn init_then_package_works_in_an_empty_folder() {
    let parent = tempfile::tempdir().unwrap();
    let out = socket(parent.path(), &["init", "chat-app", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let project = parent.path().join("chat-app");
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["service"], "chat-app", "{created}");
    assert_eq!(created["template"], "echo", "{created}");
    let files = created["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f == "serverless.yml"), "{created}");
    for file in files {
        let file = project.join(file.as_str().unwrap());
        assert!(file.is_file(), "listed but not written: {}", file.display());
    }
    let gitignore = std::fs::read_to_string(project.join(".gitignore")).unwrap();
    assert!(
        gitignore.contains(".env*")
            && gitignore.contains("!.env.example")
            && gitignore.contains(".socket/")
    );
    let manifest = Manifest::load(&project.join("serverless.yml"), &Overrides::default()).unwrap();
    assert_eq!(manifest.service, "chat-app");
    assert_eq!(manifest.architecture, Architecture::Arm64);
    // The workspace's lock file pins the same dependency versions the other builds compiled.
    std::fs::copy(workspace().join("Cargo.lock"), project.join("Cargo.lock")).unwrap();

    let out = socket(&project, &["package"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "socket package failed:\n{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("package:  .socket/dev/bootstrap.zip"),
        "{stdout}"
    );
    assert!(stdout.contains("sha256:   "), "{stdout}");
    assert!(
        stdout.contains("(arm64, aarch64-unknown-linux-musl)"),
        "{stdout}"
    );
    assert_static_elf(
        &bootstrap_from_zip(&project.join(".socket/dev/bootstrap.zip")),
        0xB7,
    );

    // The same package again (nothing to rebuild), as JSON: the digest of the zip on disk.
    let out = socket(&project, &["package", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let package: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let zip = std::fs::read(project.join(".socket/dev/bootstrap.zip")).unwrap();
    assert_eq!(package["size"], zip.len() as u64, "{package}");
    use sha2::Digest;
    assert_eq!(
        package["sha256"],
        hex::encode(sha2::Sha256::digest(&zip)),
        "{package}"
    );
    assert_eq!(package["architecture"], "arm64", "{package}");
    assert_eq!(package["target"], "aarch64-unknown-linux-musl", "{package}");
    assert_eq!(package["service"], "chat-app", "{package}");
}

#[test]
fn init_refuses_to_overwrite_a_project() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("serverless.yml"), "name: mine\n").unwrap();
    let err = socket_init::init(dir.path(), "echo").unwrap_err();
    assert!(err.to_string().contains("serverless.yml"), "{err}");
    // Nothing was written, and the existing file is untouched.
    assert!(!dir.path().join("Cargo.toml").exists());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("serverless.yml")).unwrap(),
        "name: mine\n"
    );

    let out = socket(dir.path(), &["init"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already has serverless.yml"));

    let err = socket_init::init(&dir.path().join("new"), "nope").unwrap_err();
    assert!(err.to_string().contains("unknown template `nope`"), "{err}");
}
