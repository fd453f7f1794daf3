//! The management API client against a real HTTP server on loopback standing in for API Gateway:
//! request shape, SigV4 headers, 410 → `SendError::Gone`, other errors, endpoint selection.
//! Routers get their configuration explicitly; one test reads it from the environment.

mod support;

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use socket_runtime::events::{self, EventContext, MessageBody};
use socket_runtime::{Config, Router, SendError, Socket};
use support::{serve, Received, Reply};

const CONNECTION: &str = "L0SM9cOFvHcCIhw=";
const ENCODED_CONNECTION: &str = "L0SM9cOFvHcCIhw%3D";

/// Dummy credentials in eu-west-3, management calls to `endpoint`.
fn config(endpoint: &str) -> Config {
    Config::new()
        .credentials(
            "AKIDTESTTESTTEST",
            "secret/test/key",
            Some("session-token-value".into()),
        )
        .region("eu-west-3")
        .management_endpoint(endpoint)
}

/// A stand-in management API that records requests and answers with `reply`.
async fn management_api(
    reply: impl Fn(&Received) -> Reply + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<Received>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&received);
    let reply = Arc::new(reply);
    let address = serve(move |request: Received| {
        let record = Arc::clone(&record);
        let reply = Arc::clone(&reply);
        async move {
            let answer = reply(&request);
            record.lock().unwrap().push(request);
            answer
        }
    })
    .await;
    (format!("http://{address}/dev"), received)
}

fn message(body: &str) -> socket_runtime::ApiGatewayWebsocketProxyRequest {
    let mut context = EventContext::new(CONNECTION);
    context.domain_name = "abcd1234.execute-api.eu-west-3.amazonaws.com".into();
    events::message(&context, "$default", &MessageBody::Text(body.into()), "m1")
}

/// Where a `capturing` router keeps what its handler's action returned.
type Captured = Arc<Mutex<Option<Result<Value, SendError>>>>;

/// A router configured with [`config`] whose `run` handler calls `action` and keeps its result.
fn capturing<F, Fut>(endpoint: &str, action: F) -> (Router, Captured)
where
    F: Fn(Socket) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Result<Value, SendError>> + Send + 'static,
{
    capture_on(Router::new().config(config(endpoint)), action)
}

/// Adds to `router` a `run` handler that calls `action` and keeps its result for the test.
fn capture_on<F, Fut>(router: Router, action: F) -> (Router, Captured)
where
    F: Fn(Socket) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Result<Value, SendError>> + Send + 'static,
{
    let outcome = Arc::new(Mutex::new(None));
    let keep = Arc::clone(&outcome);
    let router = router.on("run", move |_: Value, socket: Socket| {
        let (keep, action) = (Arc::clone(&keep), action.clone());
        async move {
            let result = action(socket).await;
            let status = if result.is_ok() { 200 } else { 502 };
            *keep.lock().unwrap() = Some(result);
            Ok(status)
        }
    });
    (router, outcome)
}

#[tokio::test]
async fn send_posts_a_sigv4_signed_json_frame_to_the_connection() {
    let (endpoint, received) = management_api(|_| Reply::status(200)).await;
    let router = Router::new().config(config(&endpoint)).on(
        "echo",
        |data: Value, socket: Socket| async move {
            socket.send(&data).await?;
            Ok(())
        },
    );

    let response = router
        .dispatch(message(r#"{"route":"echo","data":{"n":1}}"#))
        .await
        .unwrap();

    assert_eq!(response.status_code, 200);
    let received = received.lock().unwrap();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        format!("/dev/@connections/{ENCODED_CONNECTION}")
    );
    assert_eq!(request.text(), r#"{"n":1}"#);
    assert_eq!(
        request.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        request.header("x-amz-security-token"),
        Some("session-token-value")
    );
    let date = request.header("x-amz-date").expect("x-amz-date");
    assert_eq!(date.len(), 16, "{date}");
    let authorization = request.header("authorization").expect("authorization");
    let scope = format!(
        "Credential=AKIDTESTTESTTEST/{}/eu-west-3/execute-api/aws4_request",
        &date[..8]
    );
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 "),
        "{authorization}"
    );
    assert!(authorization.contains(&scope), "{authorization}");
    let signed_headers = authorization
        .split("SignedHeaders=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    for header in ["content-type", "host", "x-amz-date", "x-amz-security-token"] {
        assert!(
            signed_headers.split(';').any(|signed| signed == header),
            "{header} not signed: {authorization}"
        );
    }
    let signature = authorization.split("Signature=").nth(1).unwrap();
    assert!(
        signature.len() == 64 && signature.chars().all(|c| c.is_ascii_hexdigit()),
        "{signature}"
    );
}

#[tokio::test]
async fn text_and_binary_frames_keep_their_kind() {
    let (endpoint, received) = management_api(|_| Reply::status(200)).await;
    let (router, outcome) = capturing(&endpoint, |socket: Socket| async move {
        socket.send_text("plain words").await?;
        socket.send_binary(vec![0_u8, 255]).await?;
        socket.send_to("other", &json!(["to", "other"])).await?;
        Ok(Value::Null)
    });
    router
        .dispatch(message(r#"{"route":"run"}"#))
        .await
        .unwrap();
    assert!(outcome.lock().unwrap().as_ref().unwrap().is_ok());
    let received = received.lock().unwrap();
    let seen: Vec<_> = received
        .iter()
        .map(|request| {
            (
                request.path.as_str(),
                request.header("content-type").unwrap(),
                request.body.to_vec(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "/dev/@connections/L0SM9cOFvHcCIhw%3D",
                "text/plain; charset=utf-8",
                b"plain words".to_vec()
            ),
            (
                "/dev/@connections/L0SM9cOFvHcCIhw%3D",
                "application/octet-stream",
                vec![0, 255]
            ),
            (
                "/dev/@connections/other",
                "text/plain; charset=utf-8",
                br#"["to","other"]"#.to_vec()
            ),
        ]
    );
}

#[tokio::test]
async fn http_410_is_send_error_gone() {
    let (endpoint, _received) =
        management_api(|_| Reply::json(410, &json!({"message": "Gone"}))).await;
    let (router, outcome) = capturing(&endpoint, |socket: Socket| async move {
        socket
            .send_to("gone=", &json!({"hi": 1}))
            .await
            .map(|_| Value::Null)
    });

    let response = router
        .dispatch(message(r#"{"route":"run"}"#))
        .await
        .unwrap();

    assert_eq!(response.status_code, 502);
    let error = outcome.lock().unwrap().take().unwrap().unwrap_err();
    assert!(error.is_gone());
    assert!(
        matches!(&error, SendError::Gone { connection_id } if connection_id == "gone="),
        "{error:?}"
    );
}

#[tokio::test]
async fn other_statuses_are_api_errors_with_the_answer() {
    let (endpoint, _received) =
        management_api(|_| Reply::json(403, &json!({"message": "Forbidden"}))).await;
    let (router, outcome) = capturing(&endpoint, |socket: Socket| async move {
        socket.send(&json!(1)).await.map(|_| Value::Null)
    });
    router
        .dispatch(message(r#"{"route":"run"}"#))
        .await
        .unwrap();
    let error = outcome.lock().unwrap().take().unwrap().unwrap_err();
    match &error {
        SendError::Api {
            method,
            status,
            message,
            ..
        } => {
            assert_eq!((*method, *status), ("POST", 403));
            assert!(message.contains("Forbidden"));
        }
        other => panic!("expected an API error, got {other:?}"),
    }
    assert!(!error.is_gone());
}

#[tokio::test]
async fn info_and_disconnect_use_get_and_delete() {
    let (endpoint, received) = management_api(|request| match request.method.as_str() {
        "GET" => Reply::json(
            200,
            &json!({
                "connectedAt": "2024-02-09T18:23:27.396Z",
                "identity": {"sourceIp": "192.0.2.1", "userAgent": "curl/8"},
                "lastActiveAt": "2024-02-09T18:23:28.941Z"
            }),
        ),
        _ => Reply::status(204),
    })
    .await;
    let (router, outcome) = capturing(&endpoint, |socket: Socket| async move {
        let info = socket.info("peer=").await?;
        socket.disconnect("peer=").await?;
        Ok(json!([
            info.connected_at,
            info.last_active_at,
            info.identity.source_ip,
            info.identity.user_agent
        ]))
    });
    router
        .dispatch(message(r#"{"route":"run"}"#))
        .await
        .unwrap();
    let value = outcome.lock().unwrap().take().unwrap().unwrap();
    assert_eq!(
        value,
        json!([
            "2024-02-09T18:23:27.396Z",
            "2024-02-09T18:23:28.941Z",
            "192.0.2.1",
            "curl/8"
        ])
    );
    let calls: Vec<_> = received
        .lock()
        .unwrap()
        .iter()
        .map(|request| {
            (
                request.method.clone(),
                request.path.clone(),
                request.header("authorization").is_some(),
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            (
                "GET".to_string(),
                "/dev/@connections/peer%3D".to_string(),
                true
            ),
            (
                "DELETE".to_string(),
                "/dev/@connections/peer%3D".to_string(),
                true
            ),
        ]
    );
}

#[tokio::test]
async fn typed_data_errors_reach_the_caller_through_the_management_api() {
    let (endpoint, received) = management_api(|_| Reply::status(200)).await;
    let router =
        Router::new()
            .config(config(&endpoint))
            .on("count", |n: u8, socket: Socket| async move {
                socket.send(&n).await?;
                Ok(())
            });
    let response = router
        .dispatch(message(r#"{"route":"count","data":"many"}"#))
        .await
        .unwrap();
    assert_eq!(response.status_code, 400);
    let received = received.lock().unwrap();
    assert_eq!(received.len(), 1);
    let frame: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(frame["error"], "invalid_data");
    assert_eq!(frame["route"], "count");
}

/// The only test here that touches the (process-wide) environment: no other test reads it.
#[tokio::test]
async fn the_configuration_comes_from_the_environment_once() {
    let (endpoint, received) = management_api(|_| Reply::status(200)).await;
    let variables = [
        (socket_runtime::MANAGEMENT_ENDPOINT_ENV, endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "AKIDFROMTHEENV"),
        ("AWS_SECRET_ACCESS_KEY", "secret/from/env"),
        ("AWS_SESSION_TOKEN", "env-session-token"),
        ("AWS_REGION", "ap-south-1"),
    ];
    for (name, value) in variables {
        std::env::set_var(name, value);
    }
    // No configuration given, and an empty endpoint override: the environment decides.
    let (router, outcome) = capture_on(
        Router::new().management_endpoint(String::new()),
        |socket: Socket| async move {
            socket.send(&json!("hi")).await?;
            Ok(json!(socket.management_endpoint()))
        },
    );
    let run = || router.dispatch(message(r#"{"route":"run"}"#));
    run().await.unwrap();
    // Read once: the environment changing afterwards does not reach this router.
    for (name, _) in variables {
        std::env::remove_var(name);
    }
    run().await.unwrap();

    assert_eq!(
        outcome.lock().unwrap().take().unwrap().unwrap(),
        json!(endpoint)
    );
    let received = received.lock().unwrap();
    assert_eq!(received.len(), 2);
    for request in received.iter() {
        assert_eq!(
            request.header("x-amz-security-token"),
            Some("env-session-token")
        );
        let authorization = request.header("authorization").expect("authorization");
        assert!(
            authorization.contains("Credential=AKIDFROMTHEENV/")
                && authorization.contains("/ap-south-1/execute-api/aws4_request"),
            "{authorization}"
        );
    }
}

#[tokio::test]
async fn without_credentials_a_send_explains_what_to_set() {
    let (endpoint, received) = management_api(|_| Reply::status(200)).await;
    let (router, outcome) = capture_on(
        Router::new().config(Config::new().management_endpoint(&endpoint)),
        |socket: Socket| async move { socket.send(&json!("hi")).await.map(|_| Value::Null) },
    );
    router
        .dispatch(message(r#"{"route":"run"}"#))
        .await
        .unwrap();
    let error = outcome.lock().unwrap().take().unwrap().unwrap_err();
    assert!(matches!(error, SendError::Credentials(_)), "{error:?}");
    assert!(error.to_string().contains("AWS_ACCESS_KEY_ID"), "{error}");
    assert!(received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_transport_error() {
    // Bind then drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (router, outcome) = capturing(
        &format!("http://127.0.0.1:{port}/dev"),
        |socket: Socket| async move { socket.send(&json!("hi")).await.map(|_| Value::Null) },
    );
    router
        .dispatch(message(r#"{"route":"run"}"#))
        .await
        .unwrap();
    let error = outcome.lock().unwrap().take().unwrap().unwrap_err();
    assert!(matches!(error, SendError::Transport { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{port}")),
        "{error}"
    );
}
