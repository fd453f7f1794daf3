//! Credential precedence, run through the `socket credentials` command with a controlled
//! environment (tests never touch their own process environment).

use std::path::Path;
use std::process::{Command, Output};

const MANIFEST: &str = "name: chat\nstage: dev\nSocket:\n  component: socket\n";

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("serverless.yml"), MANIFEST).unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Runs `socket credentials ARGS` in `dir` with only `env` (plus PATH) set and HOME inside `dir`.
fn socket(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_socket"))
        .arg("credentials")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.join("home"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "socket failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const DEV: &str = "AWS_ACCESS_KEY_ID=AKIADEVKEY000DEV1\nAWS_SECRET_ACCESS_KEY=dev-secret-value\n";
const PROD: &str = "AWS_ACCESS_KEY_ID=AKIAPRODKEY00PRD2\nAWS_SECRET_ACCESS_KEY=prod-secret-value\nAWS_REGION=eu-west-1\n";

#[test]
fn default_stage_reads_dot_env() {
    let dir = project(&[(".env", DEV), (".env.prod", PROD)]);
    let out = stdout(&socket(dir.path(), &[], &[]));
    assert!(out.contains("key id:    AKIA…DEV1"), "{out}");
    assert!(
        out.contains("source:    ") && out.contains("/.env\n"),
        "{out}"
    );
    assert!(out.contains("region:    us-east-1"), "{out}");
}

#[test]
fn other_stage_reads_its_own_file_and_region() {
    let dir = project(&[(".env", DEV), (".env.prod", PROD)]);
    let out = stdout(&socket(dir.path(), &["--stage", "prod"], &[]));
    assert!(out.contains("key id:    AKIA…PRD2"), "{out}");
    assert!(out.contains(".env.prod"), "{out}");
    assert!(out.contains("region:    eu-west-1"), "{out}");
}

#[test]
fn json_names_the_same_source_with_the_key_masked() {
    let dir = project(&[(".env", DEV), (".env.prod", PROD)]);
    let out = stdout(&socket(dir.path(), &["--stage", "prod", "--json"], &[]));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["stage"], "prod", "{report}");
    assert_eq!(report["keyId"], "AKIA…PRD2", "{report}");
    assert_eq!(report["region"], "eu-west-1", "{report}");
    assert_eq!(report["envFileFound"], true, "{report}");
    assert!(
        report["source"].as_str().unwrap().ends_with(".env.prod"),
        "{report}"
    );
    assert!(!out.contains("prod-secret-value") && !out.contains("AKIAPRODKEY00PRD2"));
}

#[test]
fn process_environment_wins_over_the_file_with_a_warning() {
    let dir = project(&[(".env.prod", PROD)]);
    let out = socket(
        dir.path(),
        &["--stage", "prod"],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAPROCESSKEYPRC3"),
            ("AWS_SECRET_ACCESS_KEY", "process-secret"),
        ],
    );
    let text = stdout(&out);
    assert!(text.contains("key id:    AKIA…PRC3"), "{text}");
    assert!(text.contains("source:    process environment"), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("AWS_ACCESS_KEY_ID from the environment overrides the one in .env.prod"),
        "{stderr}"
    );
    // No secret and no full key id is ever printed.
    for secret in [
        "process-secret",
        "prod-secret-value",
        "AKIAPROCESSKEYPRC3",
        "AKIAPRODKEY00PRD2",
    ] {
        assert!(
            !text.contains(secret) && !stderr.contains(secret),
            "{secret} leaked"
        );
    }
}

#[test]
fn dot_env_is_not_a_fallback_for_other_stages() {
    let dir = project(&[(".env", DEV)]);
    let out = socket(dir.path(), &["--stage", "qa"], &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no AWS credentials found for stage `qa`"),
        "{stderr}"
    );
    assert!(stderr.contains(".env.qa (not found)"), "{stderr}");
    assert!(stderr.contains("~/.aws/credentials"), "{stderr}");
    assert!(!stderr.contains("dev-secret-value"));
}

#[test]
fn profile_named_in_the_env_file_is_used_from_aws_config() {
    let dir = project(&[
        (".env.prod", "AWS_PROFILE=prod-account\n"),
        (
            "home/.aws/credentials",
            "[default]\naws_access_key_id = AKIADEFAULTKEYDEF4\naws_secret_access_key = d\n\n[prod-account]\naws_access_key_id = AKIAPROFILEKEYPRF5\naws_secret_access_key = p\n",
        ),
    ]);
    let out = stdout(&socket(dir.path(), &["--stage", "prod"], &[]));
    assert!(out.contains("key id:    AKIA…PRF5"), "{out}");
    assert!(out.contains("AWS default chain"), "{out}");
    // Without the file's AWS_PROFILE the default profile is used.
    let out = stdout(&socket(dir.path(), &[], &[]));
    assert!(out.contains("key id:    AKIA…DEF4"), "{out}");
}

#[test]
fn the_profile_flag_wins_over_keys_from_the_file_the_environment_and_aws_profile() {
    let dir = project(&[
        (".env", &format!("{DEV}AWS_PROFILE=prod-account\n")),
        (
            "home/.aws/credentials",
            "[prod-account]\naws_access_key_id = AKIAPROFILEKEYPRF5\naws_secret_access_key = p\n\n[ci]\naws_access_key_id = AKIACIPROFILEKEY06\naws_secret_access_key = c\n",
        ),
    ]);
    let keys = [
        ("AWS_ACCESS_KEY_ID", "AKIAPROCESSKEYPRC3"),
        ("AWS_SECRET_ACCESS_KEY", "process-secret"),
    ];
    let out = stdout(&socket(dir.path(), &["--profile", "ci"], &keys));
    assert!(out.contains("key id:    AKIA…EY06"), "{out}");
    assert!(out.contains("AWS default chain"), "{out}");
    // Without the flag, the keys are used as before.
    let out = stdout(&socket(dir.path(), &[], &keys));
    assert!(out.contains("key id:    AKIA…PRC3"), "{out}");
    // A profile that does not exist is named in the error.
    let missing = socket(dir.path(), &["--profile", "nope"], &[]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("profile `nope` (--profile)"), "{stderr}");
}

#[test]
fn endpoint_url_comes_from_the_file_or_the_environment() {
    let dir = project(&[(
        ".env",
        &format!("{DEV}AWS_ENDPOINT_URL=http://127.0.0.1:4999\n"),
    )]);
    let out = stdout(&socket(dir.path(), &[], &[]));
    assert!(out.contains("endpoint:  http://127.0.0.1:4999"), "{out}");
    let out = stdout(&socket(
        dir.path(),
        &[],
        &[("AWS_ENDPOINT_URL", "http://127.0.0.1:5001")],
    ));
    assert!(out.contains("endpoint:  http://127.0.0.1:5001"), "{out}");
}

#[test]
fn half_a_key_pair_is_refused() {
    let dir = project(&[(".env", "AWS_ACCESS_KEY_ID=AKIAONLYKEY0000001\n")]);
    let out = socket(dir.path(), &[], &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(".env sets AWS_ACCESS_KEY_ID but not AWS_SECRET_ACCESS_KEY"),
        "{stderr}"
    );
}
