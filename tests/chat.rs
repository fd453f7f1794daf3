//! `examples/chat` on the real `socket dev`: the chat wire contract driven by real WebSocket
//! clients, with the connection registry served by the emulator's local DynamoDB endpoint.
//!
//! Run with `cargo test -p socket-tests --test chat`.

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use socket_tests::http_client;
use socket_tests::socket_dev::SocketDev;
use socket_tests::workspace::{socket_binary, workspace_root};
use socket_tests::ws_client::{self, Client, Received};

const WAIT: Duration = Duration::from_secs(10);
/// How long to listen to be sure that nothing more arrives.
const QUIET: Duration = Duration::from_millis(700);

fn chat() -> SocketDev {
    SocketDev::example("chat", &["--workers", "4"])
}

async fn connect(dev: &SocketDev, name: &str) -> Client {
    ws_client::connect(&format!("{}?name={name}", dev.ws_url)).await
}

async fn join(client: &mut Client, room: &str) -> Value {
    ws_client::send_route(client, "join", json!({ "room": room })).await;
    ws_client::next_json(client, WAIT).await
}

async fn say(client: &mut Client, room: &str, text: &str) {
    ws_client::send_route(client, "say", json!({ "room": room, "text": text })).await;
}

async fn assert_quiet(client: &mut Client, who: &str) {
    match ws_client::next(client, QUIET).await {
        Received::Timeout => {}
        other => panic!("{who} should have received nothing, got {other:?}"),
    }
}

/// Calls the emulator's local DynamoDB endpoint (unsigned: it does not check signatures).
async fn dynamodb(dev: &SocketDev, operation: &str, body: Value) -> Value {
    let url = format!("http://127.0.0.1:{}/@dynamodb", dev.port());
    let target = format!("DynamoDB_20120810.{operation}");
    let response = http_client::request(
        "POST",
        &url,
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", &target),
        ],
        body.to_string().as_bytes(),
    )
    .await
    .expect("the local DynamoDB endpoint answers");
    assert_eq!(response.status, 200, "{operation}: {}", response.text());
    response.json()
}

/// The connection ids the registry holds as members of `room`.
async fn members(dev: &SocketDev, room: &str) -> Vec<String> {
    let answer = dynamodb(
        dev,
        "Query",
        json!({
            "TableName": "chat-dev-connections",
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": { ":pk": { "S": format!("chan#{room}") } },
            "ConsistentRead": true,
        }),
    )
    .await;
    answer["Items"]
        .as_array()
        .expect("Items")
        .iter()
        .map(|item| item["sk"]["S"].as_str().expect("sk").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_is_required_to_connect() {
    let dev = chat();
    for url in [
        dev.ws_url.clone(),
        format!("{}?name=", dev.ws_url),
        format!("{}?name=has%20space", dev.ws_url),
        format!("{}?name={}", dev.ws_url, "x".repeat(33)),
    ] {
        let refused = ws_client::try_connect(&url).await;
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 403, "{url}")
            }
            other => panic!("{url}: expected a 403 refusal, got {:?}", other.map(|_| ())),
        }
    }
    let _ok = connect(&dev, "Alice_1-x").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_presence_messages_and_leaving() {
    let dev = chat();
    let mut alice = connect(&dev, "alice").await;
    let mut bob = connect(&dev, "bob").await;
    let mut carol = connect(&dev, "carol").await;

    assert_eq!(
        join(&mut alice, "lobby").await,
        json!({"type": "joined", "room": "lobby", "members": 1})
    );
    assert_eq!(
        join(&mut bob, "lobby").await,
        json!({"type": "joined", "room": "lobby", "members": 2})
    );
    assert_eq!(
        ws_client::next_json(&mut alice, WAIT).await,
        json!({"type": "presence", "room": "lobby", "name": "bob", "event": "join"})
    );
    // carol is in another room: she hears nothing from the lobby.
    assert_eq!(
        join(&mut carol, "garden").await,
        json!({"type": "joined", "room": "garden", "members": 1})
    );

    say(&mut alice, "lobby", "hi all").await;
    let message = json!({"type": "message", "room": "lobby", "from": "alice", "text": "hi all"});
    assert_eq!(ws_client::next_json(&mut alice, WAIT).await, message);
    assert_eq!(ws_client::next_json(&mut bob, WAIT).await, message);
    assert_quiet(&mut carol, "carol (garden)").await;

    // Saying into a room one has not joined.
    say(&mut carol, "lobby", "let me in").await;
    assert_eq!(
        ws_client::next_json(&mut carol, WAIT).await,
        json!({"type": "error", "error": "not_a_member", "room": "lobby"})
    );
    assert_quiet(&mut alice, "alice").await;

    // bob leaves: alice is told, and bob hears no more from the lobby.
    ws_client::send_route(&mut bob, "leave", json!({"room": "lobby"})).await;
    assert_eq!(
        ws_client::next_json(&mut alice, WAIT).await,
        json!({"type": "presence", "room": "lobby", "name": "bob", "event": "leave"})
    );
    say(&mut alice, "lobby", "still here?").await;
    assert_eq!(
        ws_client::next_json(&mut alice, WAIT).await["text"],
        "still here?"
    );
    assert_quiet(&mut bob, "bob after leaving").await;

    // A member in two rooms who disconnects leaves both: each room is told.
    assert_eq!(join(&mut carol, "lobby").await["members"], 2);
    assert_eq!(
        ws_client::next_json(&mut alice, WAIT).await["event"],
        "join"
    );
    drop(carol); // the TCP connection is dropped without a close frame
    assert_eq!(
        ws_client::next_json(&mut alice, WAIT).await,
        json!({"type": "presence", "room": "lobby", "name": "carol", "event": "leave"})
    );
    // The registry no longer knows carol anywhere.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(members(&dev, "garden").await, Vec::<String>::new());
    assert_eq!(members(&dev, "lobby").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_whose_disconnect_never_ran_answers_410_and_is_pruned() {
    let dev = chat();
    let mut alice = connect(&dev, "alice").await;
    assert_eq!(join(&mut alice, "lobby").await["members"], 1);

    // A connection that vanished without its disconnect running (a crashed function): its
    // records are still in the registry, and API Gateway answers 410 for it.
    let ghost = "Z2hvc3QtaWQtMDE=";
    let ttl = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600)
        .to_string();
    for (pk, sk) in [
        ("chan#lobby".to_string(), ghost.to_string()),
        (format!("conn#{ghost}"), "chan#lobby".to_string()),
        (format!("conn#{ghost}"), "#conn".to_string()),
        ("all".to_string(), ghost.to_string()),
    ] {
        dynamodb(
            &dev,
            "PutItem",
            json!({
                "TableName": "chat-dev-connections",
                "Item": { "pk": {"S": pk}, "sk": {"S": sk}, "ttl": {"N": ttl} },
            }),
        )
        .await;
    }
    let mut before = members(&dev, "lobby").await;
    before.sort();
    assert_eq!(before.len(), 2, "alice and the ghost: {before:?}");

    say(&mut alice, "lobby", "anyone?").await;
    assert_eq!(ws_client::next_json(&mut alice, WAIT).await["text"], "anyone?");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = members(&dev, "lobby").await;
    assert_eq!(after.len(), 1, "the ghost was pruned: {after:?}");
    assert!(!after.contains(&ghost.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_send_reaches_every_member_of_a_channel() {
    let dev = chat();
    let mut alice = connect(&dev, "alice").await;
    let mut bob = connect(&dev, "bob").await;
    let mut carol = connect(&dev, "carol").await;
    join(&mut alice, "news").await;
    join(&mut bob, "news").await;
    ws_client::next_json(&mut alice, WAIT).await; // bob's presence
    join(&mut carol, "other").await;

    let notice = json!({"type": "notice", "text": "maintenance at noon"});
    let manifest = workspace_root().join("examples/chat/serverless.yml");
    let output = Command::new(socket_binary())
        .args(["send", "--config"])
        .arg(&manifest)
        .args(["--local", &format!("http://127.0.0.1:{}", dev.port())])
        .args(["--channel", "news", &notice.to_string()])
        .output()
        .expect("run socket send");
    assert!(
        output.status.success(),
        "socket send failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(ws_client::next_json(&mut alice, WAIT).await, notice);
    assert_eq!(ws_client::next_json(&mut bob, WAIT).await, notice);
    assert_quiet(&mut carol, "carol (other room)").await;
}
