//! The benchmark harness against real processes and real sockets, with tiny loads: every
//! subcommand runs, counts what it should, and notices a server that answers wrongly. Nothing here
//! asserts a time.

use std::path::{Path, PathBuf};
use std::process::Command;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

fn bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_socket-bench"))
}

fn bare_echo() -> &'static str {
    env!("CARGO_BIN_EXE_bare-echo")
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// How the test server answers `{"route":"echo","data":X}`.
#[derive(Clone, Copy)]
enum Answer {
    Echo,
    Wrong,
}

/// A WebSocket server on loopback that answers each text frame; returns its ws:// URL.
async fn websocket_server(answer: Answer) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                while let Some(Ok(message)) = socket.next().await {
                    let Message::Text(text) = message else {
                        continue;
                    };
                    let request: Value = serde_json::from_str(&text).unwrap();
                    let reply = match answer {
                        Answer::Echo => request["data"].to_string(),
                        Answer::Wrong => r#"{"not":"the echo"}"#.to_string(),
                    };
                    if socket.send(Message::text(reply)).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    format!("ws://{addr}/dev")
}

/// Runs the bench binary off the test's runtime threads (the server runs on them).
async fn run(mut command: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_counts_every_echo_and_records_it() {
    let url = websocket_server(Answer::Echo).await;
    let dir = scratch("echo");
    let record = dir.join("results.jsonl");
    let mut command = bench();
    command.args([
        "echo",
        "--url",
        &url,
        "--connections",
        "3",
        "--messages",
        "40",
        "--warmup",
        "2",
        "--record",
    ]);
    command.arg(&record);
    let output = run(command).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = &records(&record)[0];
    assert_eq!(report["kind"], "echo");
    assert_eq!(report["connected"], 3);
    assert_eq!(report["echoed"], 120);
    assert_eq!(report["errors"], 0);
    assert_eq!(report["latency"]["count"], 120);
    assert!(report["throughput_msg_s"].as_f64().unwrap() > 0.0);

    let report = bench().arg("report").arg(&record).output().unwrap();
    let text = String::from_utf8_lossy(&report.stdout);
    assert!(text.contains("### Echo 3×40"), "{text}");
    assert!(text.contains("| socket | 1 | 120 |"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_reports_a_server_that_answers_something_else() {
    let url = websocket_server(Answer::Wrong).await;
    let dir = scratch("wrong");
    let record = dir.join("results.jsonl");
    let mut command = bench();
    command.args([
        "echo",
        "--url",
        &url,
        "--connections",
        "2",
        "--messages",
        "5",
        "--warmup",
        "0",
        "--record",
    ]);
    command.arg(&record);
    let output = run(command).await;
    assert!(!output.status.success(), "no echo at all is a failure");
    let report = &records(&record)[0];
    assert_eq!(report["echoed"], 0);
    assert_eq!(report["errors"], 2);
    assert!(report["first_error"]
        .as_str()
        .unwrap()
        .contains("unexpected reply"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_keeps_every_connection_and_reads_the_server_memory() {
    let url = websocket_server(Answer::Echo).await;
    let dir = scratch("hold");
    let record = dir.join("results.jsonl");
    let mut command = bench();
    command.args([
        "hold",
        "--url",
        &url,
        "--connections",
        "300",
        "--hold",
        "1",
        "--verify",
        "5",
    ]);
    command.args(["--pid", &std::process::id().to_string(), "--record"]);
    command.arg(&record);
    let output = run(command).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = &records(&record)[0];
    assert_eq!(report["opened"], 300);
    assert_eq!(report["failed"], 0);
    assert_eq!(report["still_open"], 300);
    assert_eq!(report["verified"], 5);
    assert!(report["rss_held_kib"].as_u64().unwrap() > 0);
}

#[test]
fn runtime_driver_runs_a_real_lambda_binary_through_the_runtime_api() {
    let dir = scratch("runtime");
    let record = dir.join("results.jsonl");
    let output = bench()
        .args([
            "runtime",
            "--binary",
            bare_echo(),
            "--baseline",
            bare_echo(),
        ])
        .args([
            "--invocations",
            "300",
            "--rounds",
            "3",
            "--cold-starts",
            "4",
            "--log-dir",
        ])
        .arg(dir.join("logs"))
        .arg("--record")
        .arg(&record)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = &records(&record)[0];
    assert_eq!(report["invocations"], 300);
    for candidate in report["candidates"].as_array().unwrap() {
        assert_eq!(candidate["completed"], 300, "{candidate}");
        assert_eq!(candidate["failed"], 0, "{candidate}");
        assert_eq!(
            candidate["echo_mismatches"], 0,
            "every invocation posted its own data back"
        );
        // One cold start per round plus the cold-start-only spawns.
        assert_eq!(candidate["cold_start"]["count"], 3 + 4);
        assert_eq!(candidate["round_wall_us"].as_array().unwrap().len(), 3);
    }
    assert!(report["invocation_p50_ratio"].as_f64().unwrap() > 0.0);
}

#[test]
fn runtime_driver_explains_a_binary_that_is_not_a_runtime() {
    let dir = scratch("not-runtime");
    let output = bench()
        .args([
            "runtime",
            "--binary",
            "/bin/true",
            "--baseline",
            bare_echo(),
        ])
        .args([
            "--invocations",
            "10",
            "--rounds",
            "1",
            "--cold-starts",
            "1",
            "--log-dir",
        ])
        .arg(dir.join("logs"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/bin/true exited"), "{stderr}");
}

#[test]
fn deploy_step_times_a_command_and_counts_its_aws_calls() {
    let dir = scratch("deploy");
    let record = dir.join("results.jsonl");
    let script = "echo 'DEBUG socket::aws: aws call Lambda.GetFunction'; \
                  echo 'DEBUG socket::aws: aws call Lambda.UpdateFunctionCode' >&2; \
                  echo 'DEBUG socket::aws: aws call Lambda.GetFunction'";
    let output = bench()
        .args([
            "deploy-step",
            "--label",
            "socket",
            "--step",
            "code-change",
            "--record",
        ])
        .arg(&record)
        .args(["--", "sh", "-c", script])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = &records(&record)[0];
    assert_eq!(report["total_calls"], 3);
    assert_eq!(report["write_calls"], 1);
    assert_eq!(report["calls"]["Lambda.GetFunction"], 2);
}

#[test]
fn zip_of_a_binary_is_smaller_than_the_binary() {
    let dir = scratch("zip");
    let record = dir.join("results.jsonl");
    let out = dir.join("bootstrap.zip");
    let output = bench()
        .args([
            "zip",
            "--binary",
            bare_echo(),
            "--label",
            "bare-echo",
            "--arch",
            "x86_64",
            "--out",
        ])
        .arg(&out)
        .arg("--record")
        .arg(&record)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let bytes = records(&record)[0]["bytes"].as_u64().unwrap();
    assert_eq!(bytes, std::fs::metadata(&out).unwrap().len());
    assert!(bytes < std::fs::metadata(bare_echo()).unwrap().len());
}
