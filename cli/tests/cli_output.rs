//! What the binary prints about itself: `--version` with the commit, and errors without colour
//! codes where there is no terminal or `NO_COLOR` is set.

use std::path::Path;
use std::process::Command;

fn socket(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_socket"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn version_names_the_package_version_and_the_commit() {
    let out = socket(&["--version"]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let repository = Path::new(env!("CARGO_MANIFEST_DIR"));
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(repository)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    assert_eq!(
        stdout.trim(),
        format!("socket {} (commit {commit})", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn errors_are_plain_text_in_a_pipe_and_with_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("serverless.yml");
    for no_color in [None, Some("1")] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_socket"));
        cmd.args(["package", "--config"]).arg(&missing);
        if let Some(value) = no_color {
            cmd.env("NO_COLOR", value);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("serverless.yml"), "{stderr}");
        assert!(stderr.contains("help:"), "{stderr}");
        assert!(!stderr.contains('\u{1b}'), "colour codes in: {stderr:?}");
        assert!(stderr.is_ascii(), "box-drawing in: {stderr}");
    }
}
