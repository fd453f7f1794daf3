//! The built `examples/echo` binary is a working Lambda custom runtime: it runs as its own process
//! against the emulator's Lambda Runtime API on loopback (the real HTTP protocol), and its sends
//! reach the management API stand-in named by `SOCKET_MANAGEMENT_ENDPOINT`.

mod support;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use socket_emulator::{
    Failure, Function, FunctionConfig, LambdaFunction, Outcome, ProcessOutput, DUMMY_ACCESS_KEY_ID,
};
use socket_runtime::events::{self, EventContext, MessageBody};
use support::{serve, Received, Reply};
use tokio::sync::{mpsc, Mutex as AsyncMutex};

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

/// The echo binary as a function on the emulator's Runtime API, with a management API stand-in
/// that records what the handler sends.
struct Harness {
    function: Function,
    frames: AsyncMutex<mpsc::UnboundedReceiver<Received>>,
    log: PathBuf,
}

impl Harness {
    async fn start(executable: PathBuf) -> Self {
        let (frame_tx, frames) = mpsc::unbounded_channel();
        let management = serve(move |request: Received| {
            let frame_tx = frame_tx.clone();
            async move {
                if !request.path.starts_with("/dev/@connections/") {
                    return Reply::status(404);
                }
                let _ = frame_tx.send(request);
                Reply::status(200)
            }
        })
        .await;
        let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let log = scratch.join(format!("echo-process-{}.log", std::process::id()));
        let endpoint = format!("http://{management}/dev");
        let environment = LambdaFunction {
            name: "echo",
            region: "us-east-1",
            memory_mb: 128,
            management_endpoint: &endpoint,
            credentials: None,
        }
        .environment();
        let config = FunctionConfig {
            arn: "arn:aws:lambda:us-east-1:123456789012:function:echo".into(),
            timeout: WAIT,
            environment,
            working_dir: scratch,
        };
        let output = ProcessOutput::File(std::fs::File::create(&log).expect("create the log"));
        let function = Function::start("echo", &[executable.into()], config, output)
            .await
            .expect("start the echo binary");
        Self {
            function,
            frames: AsyncMutex::new(frames),
            log,
        }
    }

    /// Runs `event` and waits for what the function posted back.
    async fn invoke(&self, event: Value) -> Outcome {
        tokio::time::timeout(WAIT, self.function.invoke(&event))
            .await
            .expect("the function answered in time")
    }

    async fn invoke_status(&self, event: Value) -> u16 {
        match self.invoke(event).await {
            Outcome::Response(body) => {
                let response: Value = serde_json::from_slice(&body).expect("a JSON response");
                response["statusCode"].as_u64().expect("statusCode") as u16
            }
            Outcome::Failed(failure) => panic!("expected a response, got {failure}"),
        }
    }

    async fn next_frame(&self) -> Received {
        tokio::time::timeout(WAIT, self.frames.lock().await.recv())
            .await
            .expect("a frame was sent in time")
            .expect("the management API is up")
    }
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
    let harness = Harness::start(build_echo()).await;

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
        .contains(&format!("Credential={DUMMY_ACCESS_KEY_ID}/")));

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
        Outcome::Failed(Failure::Error {
            error_type,
            message,
        }) => {
            assert_eq!(error_type, "Socket.HandlerError", "{message}");
            assert!(message.contains("the fail route always fails"), "{message}");
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
        Outcome::Failed(Failure::Error {
            error_type,
            message,
        }) => {
            assert_eq!(error_type, "Socket.NotWebSocketEvent", "{message}");
            assert!(
                message.contains("not an API Gateway WebSocket event"),
                "{message}"
            );
        }
        other => panic!("expected an error, got {other:?}"),
    }

    // disconnect → 200, and the same process is still serving
    let disconnect = events::to_json(&events::disconnect(&context.next_request(), 1000, "bye"));
    assert_eq!(harness.invoke_status(disconnect).await, 200);
    assert!(
        !harness.function.has_ended(),
        "the function keeps running between invocations"
    );

    let log = harness.log.clone();
    harness.function.kill().await;
    let logs = std::fs::read_to_string(&log).unwrap();
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
