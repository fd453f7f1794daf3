//! The `$connect` authorizer: the REQUEST authorizer event (fixture shaped as AWS documents it
//! for WebSocket APIs) dispatched to `on_authorize`, the IAM policy it answers, and the context
//! reaching `Socket::authorizer` on connect and later events.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use socket_runtime::events::EventContext;
use socket_runtime::testing::TestApp;
use socket_runtime::{Authorization, AuthorizeRequest, DispatchError, Router, Socket};

const AUTHORIZER: &str = include_str!("fixtures/authorizer.json");
const CONNECT: &str = include_str!("fixtures/connect.json");
const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/$connect";

fn token_router() -> Router {
    Router::new().on_authorize(|request: AuthorizeRequest| async move {
        Ok(match request.query("token") {
            Some("let-me-in") => Authorization::allow("guest").with_context(json!({
                "plan": "free",
                "header": request.header("headerauth1"),
                "connection": request.connection_id(),
            })),
            _ => Authorization::deny(),
        })
    })
}

fn event(token: &str) -> Value {
    let mut event: Value = serde_json::from_str(AUTHORIZER).unwrap();
    event["queryStringParameters"]["token"] = json!(token);
    event["multiValueQueryStringParameters"]["token"] = json!([token]);
    event
}

#[tokio::test]
async fn allow_answers_an_iam_policy_for_the_method_arn_with_the_context() {
    let policy = token_router()
        .dispatch_event(event("let-me-in"))
        .await
        .unwrap();
    assert_eq!(
        policy,
        json!({
            "principalId": "guest",
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": METHOD_ARN,
                }],
            },
            "context": {"plan": "free", "header": "headerValue1", "connection": "AAAA1234="},
        })
    );
}

#[tokio::test]
async fn deny_answers_a_deny_statement() {
    let policy = token_router().dispatch_event(event("nope")).await.unwrap();
    assert_eq!(policy["policyDocument"]["Statement"][0]["Effect"], "Deny");
    assert_eq!(
        policy["policyDocument"]["Statement"][0]["Resource"],
        METHOD_ARN
    );
    assert!(policy.get("context").is_none());
}

#[tokio::test]
async fn without_an_authorize_handler_the_event_is_denied_not_sent_to_connect() {
    let connected = Arc::new(Mutex::new(false));
    let flag = Arc::clone(&connected);
    let router = Router::new().on("connect", move |_: Value, _socket: Socket| {
        let flag = Arc::clone(&flag);
        async move {
            *flag.lock().unwrap() = true;
            Ok(())
        }
    });
    let policy = router.dispatch_event(event("let-me-in")).await.unwrap();
    assert_eq!(policy["policyDocument"]["Statement"][0]["Effect"], "Deny");
    assert!(!*connected.lock().unwrap(), "connect did not run");
}

#[tokio::test]
async fn a_failing_authorize_handler_is_a_function_error() {
    let router = Router::new()
        .on_authorize(|_: AuthorizeRequest| async move { Err("token service down".into()) });
    let error = router.dispatch_event(event("x")).await.unwrap_err();
    assert!(
        matches!(&error, DispatchError::HandlerFailed { route, message } if route == "authorize" && message.contains("token service down")),
        "{error}"
    );
}

#[tokio::test]
async fn a_websocket_event_still_goes_to_its_handler() {
    let router = Router::new().on(
        "connect",
        |_: Value, _socket: Socket| async move { Ok(201) },
    );
    let response = router
        .dispatch_event(serde_json::from_str(CONNECT).unwrap())
        .await
        .unwrap();
    assert_eq!(response["statusCode"], 201);
}

#[tokio::test]
async fn connect_and_later_events_see_the_authorizer_context() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let remember = move |socket: &Socket| {
        record.lock().unwrap().push((
            socket.route_key().to_string(),
            json!(socket.authorizer()),
            socket.principal_id().map(str::to_string),
        ));
    };
    let on_connect = remember.clone();
    let app = TestApp::new(
        Router::new()
            .on("connect", move |_: Value, socket: Socket| {
                on_connect(&socket);
                async move { Ok(()) }
            })
            .on("default", move |_: Value, socket: Socket| {
                remember(&socket);
                async move { Ok(()) }
            }),
    );
    let mut context = EventContext::new("AAAA1234=");
    let authorizer = json!({"plan": "free", "principalId": "guest"});
    context.authorizer = authorizer.as_object().cloned();
    let connection = app.connection_with(context);
    assert!(connection.connect().await.is_success());
    assert!(connection.send_text("hi").await.is_success());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    for (route, context, principal) in seen {
        assert_eq!(context, authorizer, "{route}");
        assert_eq!(principal.as_deref(), Some("guest"));
    }

    let plain = TestApp::new(
        Router::new().on("connect", |_: Value, socket: Socket| async move {
            Ok(if socket.authorizer().is_none() {
                200
            } else {
                500
            })
        }),
    );
    assert_eq!(plain.connection("c").connect().await.status(), 200);
}
