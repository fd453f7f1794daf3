//! Application state: given once to the router, reached by every handler and middleware through
//! the `Socket`, shared (not cloned) across events.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use socket_runtime::events::{self, EventContext, MessageBody};
use socket_runtime::testing::TestApp;
use socket_runtime::{DispatchError, Flow, Router, Socket};

struct Counter {
    hits: AtomicU64,
}

impl Counter {
    fn new() -> Self {
        Self {
            hits: AtomicU64::new(0),
        }
    }
}

#[tokio::test]
async fn two_handlers_share_a_counter_through_state() {
    let app = TestApp::new(
        Router::new()
            .on("hit", |by: u64, socket: Socket| async move {
                let total = socket
                    .state::<Counter>()
                    .hits
                    .fetch_add(by, Ordering::SeqCst)
                    + by;
                socket.send(&json!({ "total": total })).await?;
                Ok(())
            })
            .on("read", |_: Value, socket: Socket| async move {
                let total = socket.state::<Counter>().hits.load(Ordering::SeqCst);
                socket.send(&json!({ "read": total })).await?;
                Ok(())
            })
            .with_state(Counter::new()),
    );
    let alice = app.connection("alice");
    let bob = app.connection("bob");
    alice.send_json(&json!({"route": "hit", "data": 2})).await;
    bob.send_json(&json!({"route": "hit", "data": 3})).await;
    bob.send_json(&json!({"route": "read"})).await;

    assert_eq!(alice.received_json(), [json!({"total": 2})]);
    assert_eq!(
        bob.received_json(),
        [json!({"total": 5}), json!({"read": 5})]
    );
}

#[tokio::test]
async fn middleware_reaches_the_state_and_can_answer_from_it() {
    // An allow-list in the state decides who may connect; the middleware counts every attempt.
    struct Gate {
        allowed: Vec<String>,
        attempts: Mutex<Vec<String>>,
    }
    let app = TestApp::new(
        Router::new()
            .before_route("connect", |socket: Socket| async move {
                let gate = socket.state::<Gate>();
                let id = socket.connection_id().to_string();
                gate.attempts.lock().unwrap().push(id.clone());
                Ok(match gate.allowed.contains(&id) {
                    true => Flow::Continue,
                    false => Flow::respond(403),
                })
            })
            .on("attempts", |_: Value, socket: Socket| async move {
                let attempts = socket.state::<Gate>().attempts.lock().unwrap().clone();
                socket.send(&attempts).await?;
                Ok(())
            })
            .with_state(Gate {
                allowed: vec!["alice".into()],
                attempts: Mutex::new(Vec::new()),
            }),
    );

    assert_eq!(app.connection("mallory").connect().await.status(), 403);
    let alice = app.connection("alice");
    assert_eq!(alice.connect().await.status(), 200);
    alice.send_json(&json!({"route": "attempts"})).await;
    assert_eq!(alice.received_json(), [json!(["mallory", "alice"])]);
}

#[tokio::test]
async fn state_of_several_types_and_the_latest_of_one_type() {
    let app = TestApp::new(
        Router::new()
            .on("show", |_: Value, socket: Socket| async move {
                let name = socket.state::<&'static str>();
                let shared = socket.state::<Arc<Counter>>();
                let missing = socket.try_state::<u8>().is_none();
                socket
                    .send(&json!({
                        "name": name,
                        "hits": shared.hits.load(Ordering::SeqCst),
                        "missing": missing,
                    }))
                    .await?;
                Ok(())
            })
            .with_state("first")
            .with_state(Arc::new(Counter {
                hits: AtomicU64::new(7),
            }))
            .with_state("second"),
    );
    let client = app.connection("c1");
    client.send_json(&json!({"route": "show"})).await;
    assert_eq!(
        client.received_json(),
        [json!({"name": "second", "hits": 7, "missing": true})]
    );
}

#[tokio::test]
async fn a_handler_asking_for_state_the_router_lacks_fails_that_event_only() {
    let router = Router::new()
        .on("needs", |_: Value, socket: Socket| async move {
            Ok(socket.state::<Counter>().hits.load(Ordering::SeqCst) as u16)
        })
        .on("fine", |_: Value, _socket: Socket| async move { Ok(201) });
    let context = EventContext::new("c1");
    let event = |route: &str| {
        let body = MessageBody::Text(json!({ "route": route }).to_string());
        events::message(&context, "$default", &body, "m1")
    };

    let error = router.dispatch(event("needs")).await.unwrap_err();
    assert!(
        matches!(&error, DispatchError::HandlerPanicked { route, message }
            if route == "needs" && message.contains("no state of type") && message.contains("Counter")),
        "{error:?}"
    );
    let response = router.dispatch(event("fine")).await.unwrap();
    assert_eq!(response.status_code, 201);
}
