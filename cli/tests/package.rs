//! The Lambda package: a static ELF for each architecture, reproducible zips, and a project from
//! `socket init` that packages as is.
//!
//! These build for real (release, LTO), so there are few of them and they share the workspace's
//! target folder: the echo example's dependencies are compiled once per architecture.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use socket_build as build;
use socket_manifest::{Architecture, Manifest, Overrides};
use socket_progress::Reporter;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A manifest outside the repository whose handler is the echo example.
fn echo_manifest(dir: &Path, arch: &str) -> Manifest {
    let echo = workspace().join("examples/echo");
    let text = format!(
        "name: echo\nSocket:\n  component: socket\n  inputs:\n    architecture: {arch}\n    code: {}\n",
        echo.display()
    );
    std::fs::write(dir.join("serverless.yml"), text).unwrap();
    Manifest::load(&dir.join("serverless.yml"), &Overrides::default()).unwrap()
}

/// The only entry of the zip, checked to be `bootstrap`, mode 0755, with the fixed timestamp.
fn bootstrap_from_zip(zip_path: &Path) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    assert_eq!(archive.len(), 1, "the zip holds only bootstrap");
    let mut entry = archive.by_index(0).unwrap();
    assert_eq!(entry.name(), "bootstrap");
    assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
    let modified = entry.last_modified().unwrap();
    assert_eq!(
        (modified.year(), modified.month(), modified.day()),
        (1980, 1, 1)
    );
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).unwrap();
    bytes
}

/// ELF checks: 64-bit little-endian, the expected machine, and no program interpreter (static).
fn assert_static_elf(bytes: &[u8], machine: u16) {
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(bytes[4], 2, "not 64-bit");
    assert_eq!(bytes[5], 1, "not little-endian");
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]);
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap());
    assert_eq!(u16_at(18), machine, "wrong e_machine");
    let (phoff, phentsize, phnum) = (
        u64_at(32) as usize,
        u16_at(54) as usize,
        u16_at(56) as usize,
    );
    assert!(phnum > 0);
    const PT_INTERP: u32 = 3;
    for i in 0..phnum {
        assert_ne!(
            u32_at(phoff + i * phentsize),
            PT_INTERP,
            "dynamically linked: has PT_INTERP"
        );
    }
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
    let out = socket(parent.path(), &["init", "chat-app"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let project = parent.path().join("chat-app");
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
