//! Dispatch of API Gateway WebSocket events (fixtures shaped as AWS documents them) through the
//! production code path, with management calls recorded by `socket_runtime::testing`.

use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::{json, Value};
use socket_runtime::events::{self, EventContext, MessageBody};
use socket_runtime::testing::TestApp;
use socket_runtime::{DispatchError, Error, Flow, Frame, Response, Router, Socket};

const CONNECT: &str = include_str!("fixtures/connect.json");
const MESSAGE: &str = include_str!("fixtures/message.json");
const DISCONNECT: &str = include_str!("fixtures/disconnect.json");
const FIXTURE_CONNECTION: &str = "SzsQ8cXwoAMCJvA=";

fn echo_router() -> Router {
    Router::new()
        .on("echo", |data: Value, socket: Socket| async move {
            socket.send(&data).await?;
            Ok(())
        })
        .on("default", |data: Value, socket: Socket| async move {
            let reply = json!({
                "data": data,
                "text": socket.body(),
                "bytes": socket.body_bytes().map(<[u8]>::to_vec),
                "binary": socket.is_binary(),
            });
            socket.send(&reply).await?;
            Ok(())
        })
}

#[tokio::test]
async fn connect_fixture_exposes_headers_query_and_identity_and_answers_headers() {
    let seen = Arc::new(Mutex::new(Value::Null));
    let record = Arc::clone(&seen);
    let app = TestApp::new(
        Router::new().on("connect", move |data: Value, socket: Socket| {
            let record = Arc::clone(&record);
            async move {
                *record.lock().unwrap() = json!({
                    "data": data,
                    "connectionId": socket.connection_id(),
                    "routeKey": socket.route_key(),
                    "eventType": socket.event_type(),
                    "stage": socket.stage(),
                    "domain": socket.domain_name(),
                    "apiId": socket.api_id(),
                    "requestId": socket.request_id(),
                    "connectedAt": socket.connected_at_ms(),
                    "sourceIp": socket.source_ip(),
                    "userAgent": socket.user_agent(),
                    "origin": socket.header("origin"),
                    "token": socket.query("token"),
                    "rooms": socket.query_all("room"),
                    "endpoint": socket.management_endpoint(),
                });
                let protocol = socket.header("sec-websocket-protocol").unwrap_or_default();
                let first = protocol
                    .split(',')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                Ok(Response::new(200).with_header("Sec-WebSocket-Protocol", first))
            }
        }),
    );

    let response = app.dispatch_json(CONNECT).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.header("sec-websocket-protocol"), Some("chat"));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        json!({
            "data": null,
            "connectionId": FIXTURE_CONNECTION,
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "stage": "prod",
            "domain": "abcd1234.execute-api.us-east-1.amazonaws.com",
            "apiId": "abcd1234",
            "requestId": "SzsQ8FOdIAMFeXw=",
            "connectedAt": 1_707_503_007_396_i64,
            "sourceIp": "192.0.2.1",
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
            "origin": "https://example.com",
            "token": "let-me-in",
            "rooms": ["a", "b"],
            "endpoint": "https://abcd1234.execute-api.us-east-1.amazonaws.com/prod",
        })
    );
}

#[tokio::test]
async fn message_fixture_is_routed_by_its_body_and_gets_the_data_field() {
    let app = TestApp::new(echo_router());
    app.connection(FIXTURE_CONNECTION);

    let response = app.dispatch_json(MESSAGE).await;

    assert_eq!(response.status(), 200);
    let sent = app.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, FIXTURE_CONNECTION);
    assert_eq!(
        sent[0].frame,
        Frame::Text(r#"{"text":"hello"}"#.to_string())
    );
}

#[tokio::test]
async fn disconnect_fixture_carries_close_code_and_reason() {
    let seen = Arc::new(Mutex::new(None));
    let record = Arc::clone(&seen);
    let app = TestApp::new(
        Router::new().on("disconnect", move |_: Value, socket: Socket| {
            let record = Arc::clone(&record);
            async move {
                *record.lock().unwrap() = Some((
                    socket.route_key().to_string(),
                    socket.disconnect_status_code(),
                    socket.disconnect_reason().map(str::to_string),
                ));
                Ok(())
            }
        }),
    );

    assert_eq!(app.dispatch_json(DISCONNECT).await.status(), 200);
    assert_eq!(
        seen.lock().unwrap().clone(),
        Some((
            "$disconnect".to_string(),
            Some(1005),
            Some("Client-side close frame status not set".to_string())
        ))
    );
}

#[tokio::test]
async fn unknown_route_goes_to_default_with_the_whole_body() {
    let app = TestApp::new(echo_router());
    let client = app.connection("c1");
    client.send_text(r#"{"route":"nope","data":1}"#).await;
    assert_eq!(
        client.received_json(),
        [json!({
            "data": {"route": "nope", "data": 1},
            "text": r#"{"route":"nope","data":1}"#,
            "bytes": r#"{"route":"nope","data":1}"#.as_bytes(),
            "binary": false,
        })]
    );
}

#[tokio::test]
async fn non_json_text_goes_to_default_as_a_string() {
    let app = TestApp::new(echo_router());
    let client = app.connection("c1");
    client.send_text("hello there").await;
    assert_eq!(
        client.received_json(),
        [
            json!({"data": "hello there", "text": "hello there", "bytes": b"hello there", "binary": false})
        ]
    );
}

#[tokio::test]
async fn binary_frames_go_to_default_with_their_bytes() {
    let app = TestApp::new(echo_router());
    let client = app.connection("c1");
    client.send_binary(&[0, 159, 255, b'a']).await;
    assert_eq!(
        client.received_json(),
        [json!({"data": null, "text": null, "bytes": [0, 159, 255, 97], "binary": true})]
    );
}

#[tokio::test]
async fn a_custom_route_key_dispatches_to_its_handler() {
    let app = TestApp::new(echo_router());
    let client = app.connection("c1");
    // As deployed: API Gateway matched the `echo` route itself.
    let body = MessageBody::Text(r#"{"route":"echo","data":[1,2]}"#.to_string());
    assert_eq!(client.send_on_route("echo", body).await.status(), 200);
    assert_eq!(client.received_json(), [json!([1, 2])]);
}

#[tokio::test]
async fn the_route_selection_expression_is_configurable_with_dotted_paths() {
    let app = TestApp::new(echo_router().route_selection("$request.body.meta.action"));
    let client = app.connection("c1");
    client
        .send_json(&json!({"meta": {"action": "echo"}, "data": "via action"}))
        .await;
    // `route` is not the selection field any more: this one goes to default.
    client
        .send_json(&json!({"route": "echo", "data": "ignored"}))
        .await;
    let received = client.received_json();
    assert_eq!(received[0], json!("via action"));
    assert_eq!(
        received[1]["data"],
        json!({"route": "echo", "data": "ignored"})
    );
}

#[tokio::test]
async fn an_explicit_config_sets_the_route_selection_and_the_builder_overrides_it() {
    let config = socket_runtime::Config::new().route_selection("$request.body.action");
    let app = TestApp::new(echo_router().config(config.clone()));
    let client = app.connection("c1");
    client
        .send_json(&json!({"action": "echo", "data": "by action"}))
        .await;
    assert_eq!(client.received_json(), [json!("by action")]);

    let app = TestApp::new(
        echo_router()
            .config(config)
            .route_selection("$request.body.op"),
    );
    let client = app.connection("c1");
    client
        .send_json(&json!({"op": "echo", "data": "by op"}))
        .await;
    assert_eq!(client.received_json(), [json!("by op")]);
}

#[tokio::test]
async fn messages_cannot_select_the_reserved_handlers() {
    let connects = Arc::new(Mutex::new(0));
    let count = Arc::clone(&connects);
    let app = TestApp::new(
        echo_router().on("connect", move |_: Value, _socket: Socket| {
            let count = Arc::clone(&count);
            async move {
                *count.lock().unwrap() += 1;
                Ok(())
            }
        }),
    );
    let client = app.connection("c1");
    client
        .send_json(&json!({"route": "connect", "data": 1}))
        .await;
    assert_eq!(*connects.lock().unwrap(), 0);
    assert_eq!(client.received_json()[0]["data"]["route"], "connect");
}

#[derive(Deserialize)]
struct Move {
    x: u32,
    y: u32,
}

fn typed_router() -> Router {
    Router::new().on("move", |data: Move, socket: Socket| async move {
        socket.send(&json!({"sum": data.x + data.y})).await?;
        Ok(())
    })
}

#[tokio::test]
async fn typed_data_is_deserialized() {
    let app = TestApp::new(typed_router());
    let client = app.connection("c1");
    let response = client
        .send_json(&json!({"route": "move", "data": {"x": 2, "y": 3}}))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(client.received_json(), [json!({"sum": 5})]);
}

#[tokio::test]
async fn data_that_does_not_fit_the_type_answers_400_with_an_error_frame() {
    let app = TestApp::new(typed_router());
    let client = app.connection("c1");
    let response = client
        .send_json(&json!({"route": "move", "data": {"x": "left"}}))
        .await;
    assert_eq!(response.status(), 400);
    let frames = client.received_json();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["error"], "invalid_data");
    assert_eq!(frames[0]["route"], "move");
    let message = frames[0]["message"].as_str().unwrap();
    assert!(
        message.contains("invalid type: string \"left\", expected u32"),
        "{message}"
    );

    // A missing `data` field is `null`, which does not fit either.
    let response = client.send_json(&json!({"route": "move"})).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn return_values_map_to_statuses() {
    let app = TestApp::new(
        Router::new()
            .on("unit", |_: Value, _socket: Socket| async move { Ok(()) })
            .on("teapot", |_: Value, _socket: Socket| async move { Ok(418) })
            .on("fails", |_: Value, _socket: Socket| async move {
                Err::<(), _>(Error::msg("database is down"))
            })
            .on("io", |_: Value, _socket: Socket| async move {
                std::fs::read("/definitely/not/here")?;
                Ok(())
            })
            .on("full", |_: Value, _socket: Socket| async move {
                Ok(Response::new(202)
                    .with_header("x-trace", "t1")
                    .with_body("accepted"))
            }),
    );
    let client = app.connection("c1");
    let status = |route: &'static str| {
        let client = &client;
        async move { client.send_json(&json!({"route": route})).await }
    };
    assert_eq!(status("unit").await.status(), 200);
    assert_eq!(status("teapot").await.status(), 418);
    assert_eq!(status("fails").await.status(), 500);
    assert_eq!(status("io").await.status(), 500);
    let full = status("full").await;
    assert_eq!(
        (full.status(), full.header("x-trace"), full.body()),
        (202, Some("t1"), Some("accepted"))
    );
    // No handler and no default: 404.
    assert_eq!(status("missing").await.status(), 404);
}

#[tokio::test]
async fn a_rejected_connect_closes_the_connection() {
    let app = TestApp::new(
        Router::new()
            .on("connect", |_: Value, socket: Socket| async move {
                Ok(if socket.query("reject") == Some("1") {
                    403
                } else {
                    200
                })
            })
            .on("ping", |_: Value, socket: Socket| async move {
                socket.send_to("rejected", "pong").await?;
                Ok(())
            }),
    );
    let rejected = app.connection("rejected");
    assert_eq!(
        rejected
            .connect_with(&[], &[("reject", "1")])
            .await
            .status(),
        403
    );
    let accepted = app.connection("accepted");
    assert_eq!(accepted.connect().await.status(), 200);
    // Sending to the rejected connection fails like a gone connection: the handler errors, 500.
    assert_eq!(
        accepted.send_json(&json!({"route": "ping"})).await.status(),
        500
    );
    assert!(app.sent().is_empty());
}

#[tokio::test]
async fn gone_connections_are_a_distinct_error_handlers_can_match() {
    let app = TestApp::new(
        Router::new().on("tell", |to: String, socket: Socket| async move {
            match socket.send_to(&to, "hi").await {
                Ok(()) => Ok(200),
                Err(error) if error.is_gone() => Ok(410),
                Err(error) => Err(error.into()),
            }
        }),
    );
    let alice = app.connection("alice");
    let bob = app.connection("bob");
    assert_eq!(
        alice
            .send_json(&json!({"route": "tell", "data": "bob"}))
            .await
            .status(),
        200
    );
    bob.disconnect().await;
    assert_eq!(
        alice
            .send_json(&json!({"route": "tell", "data": "bob"}))
            .await
            .status(),
        410
    );
    assert_eq!(app.sent_to("bob"), [Frame::Text("\"hi\"".to_string())]);
}

#[tokio::test]
async fn disconnect_and_info_are_recorded() {
    let app = TestApp::new(
        Router::new().on("kick", |id: String, socket: Socket| async move {
            let info = socket.info(&id).await?;
            socket
                .send(&json!({"kicked": id, "ip": info.identity.source_ip}))
                .await?;
            socket.disconnect(&id).await?;
            Ok(())
        }),
    );
    let admin = app.connection("admin");
    let mut context = EventContext::new("victim");
    context.source_ip = "198.51.100.9".to_string();
    app.connection_with(context);
    assert_eq!(
        admin
            .send_json(&json!({"route": "kick", "data": "victim"}))
            .await
            .status(),
        200
    );
    assert_eq!(app.disconnected(), ["victim"]);
    assert_eq!(
        admin.received_json(),
        [json!({"kicked": "victim", "ip": "198.51.100.9"})]
    );
    // Kicking again: the connection is gone, the handler's `?` turns that into a 500.
    assert_eq!(
        admin
            .send_json(&json!({"route": "kick", "data": "victim"}))
            .await
            .status(),
        500
    );
}

#[derive(Clone, Debug, PartialEq)]
struct User(String);

fn authenticated_router(calls: Arc<Mutex<Vec<String>>>) -> Router {
    let log = |calls: &Arc<Mutex<Vec<String>>>, entry: &str| {
        calls.lock().unwrap().push(entry.to_string())
    };
    let (all, auth, handler) = (Arc::clone(&calls), Arc::clone(&calls), Arc::clone(&calls));
    Router::new()
        .before(move |_socket: Socket| {
            let calls = Arc::clone(&all);
            async move {
                log(&calls, "before");
                Ok(Flow::Continue)
            }
        })
        .before_route("connect", move |socket: Socket| {
            let calls = Arc::clone(&auth);
            async move {
                log(&calls, "auth");
                match socket.query("token") {
                    Some("let-me-in") => {
                        socket.insert(User("alice".into()));
                        Ok(Flow::Continue)
                    }
                    Some("explode") => Err(Error::msg("token service unreachable")),
                    _ => Ok(Flow::respond(401)),
                }
            }
        })
        .on("connect", move |_: Value, socket: Socket| {
            let calls = Arc::clone(&handler);
            async move {
                let user = socket
                    .get::<User>()
                    .expect("auth middleware attached the user");
                log(&calls, &format!("connect {}", user.0));
                Ok(())
            }
        })
}

#[tokio::test]
async fn middleware_runs_in_order_and_attaches_values() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let app = TestApp::new(authenticated_router(Arc::clone(&calls)));
    let response = app
        .connection("c1")
        .connect_with(&[], &[("token", "let-me-in")])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(*calls.lock().unwrap(), ["before", "auth", "connect alice"]);
}

#[tokio::test]
async fn middleware_short_circuits_with_a_status() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let app = TestApp::new(authenticated_router(Arc::clone(&calls)));
    let response = app
        .connection("c1")
        .connect_with(&[], &[("token", "wrong")])
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(*calls.lock().unwrap(), ["before", "auth"]);

    let response = app
        .connection("c2")
        .connect_with(&[], &[("token", "explode")])
        .await;
    assert_eq!(response.status(), 500);
}

#[tokio::test]
async fn route_middleware_runs_even_without_a_handler() {
    let app = TestApp::new(
        Router::new().before_route("$connect", |socket: Socket| async move {
            Ok(if socket.header("origin") == Some("https://evil.example") {
                Flow::respond(403)
            } else {
                Flow::Continue
            })
        }),
    );
    let evil = app
        .connection("evil")
        .connect_with(&[("Origin", "https://evil.example")], &[])
        .await;
    assert_eq!(evil.status(), 403);
    // No connect handler: accepted.
    assert_eq!(app.connection("good").connect().await.status(), 200);
}

#[tokio::test]
async fn the_global_registry_feeds_run_and_testing() {
    socket_runtime::on("global-echo", |data: Value, socket: Socket| async move {
        socket.send(&data).await?;
        Ok(())
    });
    let app = TestApp::global();
    let client = app.connection("c1");
    client
        .send_json(&json!({"route": "global-echo", "data": "from the global router"}))
        .await;
    assert_eq!(client.received_json(), [json!("from the global router")]);
}

#[tokio::test]
async fn events_without_a_route_key_are_a_lambda_error_with_a_meaningful_type() {
    let event = events::to_json(&events::message(
        &EventContext::new("c1"),
        "$default",
        &MessageBody::Text("{}".into()),
        "m",
    ));
    let mut event = event;
    event["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("routeKey");
    let event = serde_json::from_value(event).unwrap();
    let error = Router::new().dispatch(event).await.unwrap_err();
    assert!(matches!(error, DispatchError::NotWebSocketEvent));
    let diagnostic: lambda_runtime::Diagnostic = error.into();
    assert_eq!(diagnostic.error_type, "Socket.NotWebSocketEvent");
    assert!(diagnostic
        .error_message
        .contains("not an API Gateway WebSocket event"));
}

#[tokio::test]
async fn a_panicking_handler_is_a_lambda_error_for_that_event_only() {
    let router = Router::new()
        .on("boom", |_: Value, _socket: Socket| async move {
            if true {
                panic!("index out of bounds");
            }
            Ok(())
        })
        .on("fine", |_: Value, _socket: Socket| async move { Ok(201) });
    let context = EventContext::new("c1");
    let event =
        |body: &str| events::message(&context, "$default", &MessageBody::Text(body.into()), "m");

    let error = router
        .dispatch(event(r#"{"route":"boom"}"#))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, DispatchError::HandlerPanicked { route, message } if route == "boom" && message == "index out of bounds"),
        "{error:?}"
    );
    let diagnostic: lambda_runtime::Diagnostic = error.into();
    assert_eq!(diagnostic.error_type, "Socket.HandlerPanicked");
    // The router still serves the next event.
    assert_eq!(
        router
            .dispatch(event(r#"{"route":"fine"}"#))
            .await
            .unwrap()
            .status_code,
        201
    );
}
