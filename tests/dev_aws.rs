//! `socket dev --aws`: the workers get the stage's real credentials (from its env file, as
//! `socket deploy` reads them) and region; without the flag, the dummy ones. Observed in the
//! worker processes' own environment (`/proc/<pid>/environ`), and the secret is never printed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::json;
use socket_tests::socket_dev::SocketDev;
use socket_tests::workspace::{example_binary, workspace_root};
use socket_tests::ws_client;

const KEY: &str = "AKIAREALSTAGEKEY1234";
const SECRET: &str = "the-stage-secret-that-must-not-be-printed";

/// A fresh folder for one test.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dev-aws-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A project whose handler is the echo example, with the stage's credentials in `.env`.
fn project(dir: &Path) -> String {
    let manifest = dir.join("serverless.yml");
    let code = workspace_root().join("examples/echo");
    std::fs::write(
        &manifest,
        format!(
            "name: echo\nSocket:\n  component: socket\n  inputs:\n    region: eu-west-1\n    code: {}\n    routes: [echo]\n",
            code.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join(".env"),
        format!("AWS_ACCESS_KEY_ID={KEY}\nAWS_SECRET_ACCESS_KEY={SECRET}\n"),
    )
    .unwrap();
    manifest.display().to_string()
}

fn start(manifest: &str, extra: &[&str]) -> SocketDev {
    let mut args: Vec<String> = [
        "dev",
        "--config",
        manifest,
        "--port",
        "0",
        "--workers",
        "1",
        "--bootstrap",
        example_binary("echo").to_str().unwrap(),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    args.extend(extra.iter().map(|a| a.to_string()));
    SocketDev::start(&args)
}

/// The environment of every process below `pid` (the workers).
fn descendants_environment(pid: u32) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    let mut parents = vec![pid];
    while let Some(parent) = parents.pop() {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
                continue;
            };
            // `pid (comm) state ppid ...`: the comm may hold spaces, so read after its `)`.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid != Some(parent) {
                continue;
            }
            parents.push(child);
            if let Ok(raw) = std::fs::read(format!("/proc/{child}/environ")) {
                let environment = raw
                    .split(|b| *b == 0)
                    .filter_map(|pair| {
                        let pair = String::from_utf8_lossy(pair);
                        pair.split_once('=')
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                    })
                    .collect();
                out.push(environment);
            }
        }
    }
    out
}

/// The environment of the worker that answered an `echo` (so one is surely running).
async fn worker_environment(dev: &SocketDev) -> BTreeMap<String, String> {
    let mut client = ws_client::connect(&dev.ws_url).await;
    ws_client::send_route(&mut client, "echo", json!("ping")).await;
    assert_eq!(
        ws_client::next_json(&mut client, Duration::from_secs(10)).await,
        json!("ping")
    );
    descendants_environment(dev.pid())
        .into_iter()
        .find(|env| env.contains_key("AWS_LAMBDA_FUNCTION_NAME"))
        .expect("a worker process runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_aws_the_workers_get_the_stage_credentials_and_the_secret_is_never_printed() {
    let dir = scratch("with");
    let manifest = project(&dir);
    let dev = start(&manifest, &["--aws"]);
    let environment = worker_environment(&dev).await;
    assert_eq!(environment["AWS_ACCESS_KEY_ID"], KEY);
    assert_eq!(environment["AWS_SECRET_ACCESS_KEY"], SECRET);
    assert!(!environment.contains_key("AWS_SESSION_TOKEN"));
    assert_eq!(environment["AWS_REGION"], "eu-west-1");
    let output = dev.output().join("\n");
    assert!(!output.contains(SECRET), "the secret is printed:\n{output}");
    assert!(
        !output.contains(KEY),
        "the key id is shown masked only:\n{output}"
    );
    assert!(
        output.contains("AWS credentials of stage dev"),
        "it says whose credentials the handler gets:\n{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_aws_the_workers_keep_the_dummy_credentials() {
    let dir = scratch("without");
    let manifest = project(&dir);
    let dev = start(&manifest, &[]);
    let environment = worker_environment(&dev).await;
    assert_eq!(
        environment["AWS_ACCESS_KEY_ID"], "AKIDLOCALSOCKETDEV00",
        "the emulator's dummy key id"
    );
    assert_ne!(environment["AWS_SECRET_ACCESS_KEY"], SECRET);
    assert_eq!(environment["AWS_REGION"], "eu-west-1");
}
