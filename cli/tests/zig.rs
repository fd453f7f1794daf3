//! `socket package` on a machine without C cross toolchains: both architectures build with Zig
//! (cargo-zigbuild), and the x86_64 binary serves an invocation over the Lambda Runtime API.
//!
//! The CLI runs with a PATH of symlinks to every tool on this machine's PATH except the C cross
//! compilers and `musl-gcc` (the host's own gcc stays: build scripts link with it), finds Zig in
//! its cache folder (`XDG_CACHE_HOME`), which points at the venv `scripts/setup.sh` installs into
//! `target/zig-venv`, and is told `SOCKET_BUILD_WITH=zig` (the host gcc would otherwise build
//! x86_64 on an x86_64 host). Builds go to their own target folder so they do not invalidate the
//! C-toolchain builds of the other tests.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use socket_protocol::events::{self, EventContext};
use support::{assert_static_elf, bootstrap_from_zip, workspace, write_echo_manifest};

/// C compilers for other targets, which this test hides.
fn is_cross_compiler(name: &str) -> bool {
    name.starts_with("musl-")
        || ["aarch64-linux-", "x86_64-linux-musl-", "x86_64-linux-gnu-"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
}

/// A folder of symlinks to the first of each program on PATH, cross compilers and the programs
/// `also_hidden` names left out.
fn path_without_cross_compilers(farm: &Path, also_hidden: fn(&str) -> bool) -> PathBuf {
    std::fs::create_dir_all(farm).unwrap();
    let path = std::env::var_os("PATH").unwrap();
    for dir in std::env::split_paths(&path) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let link = farm.join(&name);
            let hidden =
                is_cross_compiler(&name.to_string_lossy()) || also_hidden(&name.to_string_lossy());
            if hidden || link.symlink_metadata().is_ok() {
                continue;
            }
            std::os::unix::fs::symlink(entry.path(), &link).unwrap();
        }
    }
    for hidden in ["musl-gcc", "aarch64-linux-gnu-gcc", "x86_64-linux-gnu-gcc"] {
        assert!(!farm.join(hidden).exists(), "{hidden} is hidden");
    }
    farm.to_path_buf()
}

/// Runs `socket package` for `arch` through the Zig path; returns the zip's bootstrap.
fn package_with_zig(arch: &str) -> Vec<u8> {
    let venv = workspace().join("target/zig-venv");
    assert!(
        venv.join("bin/cargo-zigbuild").is_file(),
        "Zig is not installed in {}: run `bash scripts/setup.sh`",
        venv.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(cache.join("socket")).unwrap();
    std::os::unix::fs::symlink(&venv, cache.join("socket/zig-venv")).unwrap();
    let path = path_without_cross_compilers(&dir.path().join("bin"), |_| false);
    let config = write_echo_manifest(dir.path(), arch);

    let out = Command::new(env!("CARGO_BIN_EXE_socket"))
        .args(["package", "--config"])
        .arg(&config)
        .env("PATH", path)
        .env("XDG_CACHE_HOME", &cache)
        .env("SOCKET_BUILD_WITH", "zig")
        .env("CARGO_TARGET_DIR", workspace().join("target/zig-tests"))
        // cargo-zigbuild's compiler wrappers live in XDG_CACHE_HOME by default: a fixed folder
        // keeps their paths, so the C code is not rebuilt on every run.
        .env(
            "CARGO_ZIGBUILD_CACHE_DIR",
            workspace().join("target/zig-tests/cargo-zigbuild"),
        )
        .env_remove("CARGO_ZIGBUILD_ZIG_PATH")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "socket package failed:\n{stderr}");
    assert!(
        stderr.contains("-unknown-linux-musl, with Zig)"),
        "built with Zig:\n{stderr}"
    );
    bootstrap_from_zip(&dir.path().join(".socket/dev/bootstrap.zip"))
}

#[test]
fn without_python_the_error_names_the_install_commands() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_without_cross_compilers(&dir.path().join("bin"), |name| {
        name.starts_with("python") || name.starts_with("cargo-zigbuild") || name == "zig"
    });
    let config = write_echo_manifest(dir.path(), "arm64");
    let out = Command::new(env!("CARGO_BIN_EXE_socket"))
        .args(["package", "--config"])
        .arg(&config)
        .env("PATH", path)
        .env("XDG_CACHE_HOME", dir.path().join("empty-cache"))
        .env_remove("SOCKET_BUILD_WITH")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    // The report is wrapped to a width, with a margin: compare without either.
    let compact = |text: &str| -> String {
        text.chars()
            .filter(|c| !c.is_whitespace() && *c != '|')
            .collect()
    };
    let says = |expected: &str| compact(&stderr).contains(&compact(expected));
    assert!(
        says("cannot build for aarch64-unknown-linux-musl"),
        "{stderr}"
    );
    assert!(says("python3 is not installed"), "{stderr}");
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    if os_release
        .lines()
        .any(|l| l == "ID=debian" || l == "ID=ubuntu")
    {
        assert!(
            says("`sudo apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross`"),
            "{stderr}"
        );
        assert!(says("`pip3 install ziglang cargo-zigbuild`"), "{stderr}");
    }
    // Nothing was installed.
    assert!(!dir.path().join("empty-cache/socket/zig-venv").exists());
}

#[test]
fn an_unknown_build_with_value_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_echo_manifest(dir.path(), "x86_64");
    let out = Command::new(env!("CARGO_BIN_EXE_socket"))
        .args(["package", "--config"])
        .arg(&config)
        .env("SOCKET_BUILD_WITH", "gcc")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("SOCKET_BUILD_WITH is `gcc`"), "{stderr}");
}

#[test]
fn arm64_packages_with_zig_as_a_static_aarch64_elf() {
    assert_static_elf(&package_with_zig("arm64"), 0xB7);
}

#[test]
fn x86_64_packages_with_zig_and_serves_an_invocation() {
    let binary = package_with_zig("x86_64");
    assert_static_elf(&binary, 0x3E);
    if std::env::consts::ARCH != "x86_64" {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bootstrap = dir.path().join("bootstrap");
    std::fs::write(&bootstrap, &binary).unwrap();
    std::fs::set_permissions(
        &bootstrap,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut child = Command::new(&bootstrap)
        .env_clear()
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            listener.local_addr().unwrap().to_string(),
        )
        .env("AWS_LAMBDA_FUNCTION_NAME", "echo")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
        .env("AWS_SECRET_ACCESS_KEY", "local-secret")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // One invocation by hand, as Lambda's Runtime API answers it: the next event, then the result.
    let (request_line, _, poll) = next_request(&listener, &mut child);
    assert_eq!(
        request_line,
        "GET /2018-06-01/runtime/invocation/next HTTP/1.1"
    );
    let event = events::to_json(&events::connect(&EventContext::new("zig-conn="), &[], &[]));
    answer_with_invocation(poll, "zig-1", &event);
    let (request_line, body, mut result) = next_request(&listener, &mut child);
    assert_eq!(
        request_line,
        "POST /2018-06-01/runtime/invocation/zig-1/response HTTP/1.1"
    );
    result
        .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
        .unwrap();
    let response: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The function's next connection; its process is watched meanwhile so that a crash fails the
/// test instead of blocking it.
fn accept(listener: &TcpListener, child: &mut Child) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                return stream;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(status) = child.try_wait().unwrap() {
                    let mut stderr = String::new();
                    child
                        .stderr
                        .take()
                        .unwrap()
                        .read_to_string(&mut stderr)
                        .ok();
                    panic!("bootstrap exited ({status}):\n{stderr}");
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Reads one HTTP request on a new connection: its request line, its body, and the connection
/// to answer on.
fn next_request(listener: &TcpListener, child: &mut Child) -> (String, Vec<u8>, TcpStream) {
    read_request(accept(listener, child))
}

/// Answers a poll for the next invocation with `event` as invocation `id`.
fn answer_with_invocation(mut poll: TcpStream, id: &str, event: &Value) {
    let body = event.to_string();
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 60_000;
    write!(
        poll,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         lambda-runtime-aws-request-id: {id}\r\nlambda-runtime-deadline-ms: {deadline}\r\n\
         lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:echo\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
}

fn read_request(stream: TcpStream) -> (String, Vec<u8>, TcpStream) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (line.trim_end().to_string(), body, reader.into_inner())
}
