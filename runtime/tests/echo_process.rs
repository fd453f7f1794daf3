//! The built `examples/echo` binary is a working Lambda custom runtime: it runs as its own process
//! against a Lambda Runtime API served here on loopback (the real HTTP protocol), and its sends
//! reach the management API stand-in named by `SOCKET_MANAGEMENT_ENDPOINT`.

mod support;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use socket_runtime::events::{self, EventContext, MessageBody};
use support::{serve, Received, Reply};
use tokio::io::AsyncReadExt;
use tokio::sync::{mpsc, Mutex as AsyncMutex};

const RUNTIME_API: &str = "/2018-06-01/runtime";
const WAIT: Duration = Duration::from_secs(30);

/// Builds the echo example and returns its executable (cargo reports where it put it).
fn build_echo() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = std::process::Command::new(env!("CARGO"))
        .args(["build", "-p", "echo", "--message-format=json"])
        .current_dir(&workspace)
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build -p echo");
    assert!(output.status.success(), "cargo build -p echo failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact" && message["target"]["name"] == "echo"
        })
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported the echo executable")
}

/// What the function posted back for one invocation.
#[derive(Debug)]
enum Outcome {
    Response(Value),
    Error {
        error_type: Option<String>,
        body: Value,
    },
}

/// A loopback Lambda Runtime API plus a management API stand-in on the same port.
struct LambdaHarness {
    address: std::net::SocketAddr,
    events: mpsc::UnboundedSender<(String, Value)>,
    outcomes: AsyncMutex<mpsc::UnboundedReceiver<(String, Outcome)>>,
    frames: AsyncMutex<mpsc::UnboundedReceiver<Received>>,
    next_id: AtomicU64,
}

impl LambdaHarness {
    async fn start() -> Self {
        let (events, pending) = mpsc::unbounded_channel::<(String, Value)>();
        let pending = Arc::new(AsyncMutex::new(pending));
        let (outcome_tx, outcomes) = mpsc::unbounded_channel();
        let (frame_tx, frames) = mpsc::unbounded_channel();
        let address = serve(move |request: Received| {
            let (pending, outcome_tx, frame_tx) = (Arc::clone(&pending), outcome_tx.clone(), frame_tx.clone());
            async move {
                let path = request.path.clone();
                if request.method == "GET" && path == format!("{RUNTIME_API}/invocation/next") {
                    // Long poll, as Lambda does: answer when an event is queued.
                    let Some((id, event)) = pending.lock().await.recv().await else {
                        return Reply::status(500);
                    };
                    return Reply::json(200, &event)
                        .header("Lambda-Runtime-Aws-Request-Id", &id)
                        .header("Lambda-Runtime-Deadline-Ms", &(now_ms() + 3_000).to_string())
                        .header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:echo")
                        .header("Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1");
                }
                if let Some(rest) = path.strip_prefix(&format!("{RUNTIME_API}/invocation/")) {
                    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                    if let Some(id) = rest.strip_suffix("/response") {
                        let _ = outcome_tx.send((id.to_string(), Outcome::Response(body)));
                        return Reply::status(202);
                    }
                    if let Some(id) = rest.strip_suffix("/error") {
                        let error_type = request.header("lambda-runtime-function-error-type").map(str::to_string);
                        let _ = outcome_tx.send((id.to_string(), Outcome::Error { error_type, body }));
                        return Reply::status(202);
                    }
                }
                if path == format!("{RUNTIME_API}/init/error") {
                    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                    let _ = outcome_tx.send(("init".to_string(), Outcome::Error { error_type: None, body }));
                    return Reply::status(202);
                }
                if path.starts_with("/dev/@connections/") {
                    let _ = frame_tx.send(request);
                    return Reply::status(200);
                }
                Reply::status(404)
            }
        })
        .await;
        Self {
            address,
            events,
            outcomes: AsyncMutex::new(outcomes),
            frames: AsyncMutex::new(frames),
            next_id: AtomicU64::new(1),
        }
    }

    /// Queues `event` for the function and waits for what it posts back.
    async fn invoke(&self, event: Value) -> Outcome {
        let id = format!(
            "invocation-{}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        self.events.send((id.clone(), event)).unwrap();
        let (answered, outcome) = tokio::time::timeout(WAIT, self.outcomes.lock().await.recv())
            .await
            .expect("the function answered in time")
            .expect("the runtime API is up");
        assert_eq!(answered, id, "answers come back for the invocation asked");
        outcome
    }

    async fn invoke_status(&self, event: Value) -> u16 {
        match self.invoke(event).await {
            Outcome::Response(response) => {
                response["statusCode"].as_u64().expect("statusCode") as u16
            }
            other => panic!("expected a response, got {other:?}"),
        }
    }

    async fn next_frame(&self) -> Received {
        tokio::time::timeout(WAIT, self.frames.lock().await.recv())
            .await
            .expect("a frame was sent in time")
            .expect("the management API is up")
    }
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

fn message(context: &EventContext, body: &str) -> Value {
    events::to_json(&events::message(
        &context.next_request(),
        "$default",
        &MessageBody::Text(body.into()),
        "m",
    ))
}

#[tokio::test]
async fn the_echo_binary_serves_connect_message_and_disconnect_over_the_runtime_api() {
    let executable = build_echo();
    let harness = LambdaHarness::start().await;
    let mut child = tokio::process::Command::new(&executable)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", harness.address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "echo")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
        .env("AWS_SECRET_ACCESS_KEY", "local-secret")
        .env("AWS_SESSION_TOKEN", "local-token")
        .env(
            "SOCKET_MANAGEMENT_ENDPOINT",
            format!("http://{}/dev", harness.address),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the echo binary");

    let mut context = EventContext::new("echo-conn=");
    context.domain_name = "abcd1234.execute-api.us-east-1.amazonaws.com".into();

    // connect → 200; connect with ?reject=1 → 403
    let connect = events::to_json(&events::connect(
        &context,
        &[("Host".into(), "localhost".into())],
        &[],
    ));
    assert_eq!(harness.invoke_status(connect).await, 200);
    let rejected = EventContext::new("rejected=");
    let reject = events::to_json(&events::connect(
        &rejected,
        &[],
        &[("reject".into(), "1".into())],
    ));
    assert_eq!(harness.invoke_status(reject).await, 403);

    // echo → the data comes back to the caller through the management API, signed
    assert_eq!(
        harness
            .invoke_status(message(
                &context,
                r#"{"route":"echo","data":{"hello":"world"}}"#
            ))
            .await,
        200
    );
    let frame = harness.next_frame().await;
    assert_eq!(
        (frame.method.as_str(), frame.path.as_str()),
        ("POST", "/dev/@connections/echo-conn%3D")
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&frame.body).unwrap(),
        json!({"hello": "world"})
    );
    assert!(frame
        .header("authorization")
        .unwrap()
        .contains("Credential=AKIDLOCAL/"));

    // whoami, default, sleep
    assert_eq!(
        harness
            .invoke_status(message(&context, r#"{"route":"whoami"}"#))
            .await,
        200
    );
    let frame = harness.next_frame().await;
    assert_eq!(
        serde_json::from_slice::<Value>(&frame.body).unwrap(),
        json!({"connectionId": "echo-conn=", "stage": "dev"})
    );
    assert_eq!(
        harness.invoke_status(message(&context, "not json")).await,
        200
    );
    let frame = harness.next_frame().await;
    assert_eq!(
        serde_json::from_slice::<Value>(&frame.body).unwrap(),
        json!({"route": "default", "body": "not json"})
    );
    assert_eq!(
        harness
            .invoke_status(message(&context, r#"{"route":"sleep","data":20}"#))
            .await,
        200
    );
    let frame = harness.next_frame().await;
    assert_eq!(
        serde_json::from_slice::<Value>(&frame.body).unwrap(),
        json!({"slept": 20})
    );

    // fail → the handler's error is a function error (API Gateway then sends the caller its
    // "Internal server error" frame), not a crashed function
    match harness
        .invoke(message(&context, r#"{"route":"fail"}"#))
        .await
    {
        Outcome::Error { body, .. } => {
            assert_eq!(body["errorType"], "Socket.HandlerError", "{body}");
            assert!(
                body["errorMessage"]
                    .as_str()
                    .unwrap()
                    .contains("the fail route always fails"),
                "{body}"
            );
        }
        other => panic!("expected a function error, got {other:?}"),
    }

    // an event that is not a WebSocket event → a Lambda error with a meaningful type
    let mut foreign = message(&context, "{}");
    foreign["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("routeKey");
    match harness.invoke(foreign).await {
        Outcome::Error { error_type, body } => {
            assert_eq!(error_type.as_deref(), Some("unhandled"));
            assert_eq!(body["errorType"], "Socket.NotWebSocketEvent", "{body}");
            assert!(body["errorMessage"]
                .as_str()
                .unwrap()
                .contains("not an API Gateway WebSocket event"));
        }
        other => panic!("expected an error, got {other:?}"),
    }

    // disconnect → 200, and the process is still serving
    let disconnect = events::to_json(&events::disconnect(&context.next_request(), 1000, "bye"));
    assert_eq!(harness.invoke_status(disconnect).await, 200);
    assert!(
        child.try_wait().unwrap().is_none(),
        "the function keeps running between invocations"
    );

    child.start_kill().unwrap();
    let mut logs = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut logs).await.unwrap();
    }
    // The handler's error was logged with its message and route.
    assert!(
        logs.contains("the fail route always fails"),
        "logs:\n{logs}"
    );
    assert!(
        logs.contains("route=fail") || logs.contains("\"route\":\"fail\""),
        "logs:\n{logs}"
    );
}

#[tokio::test]
async fn outside_lambda_the_binary_explains_how_to_run_it() {
    let executable = build_echo();
    let output = tokio::process::Command::new(&executable)
        .env_clear()
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("AWS_LAMBDA_RUNTIME_API is not set"),
        "{stderr}"
    );
    assert!(stderr.contains("socket dev"), "{stderr}");
}
