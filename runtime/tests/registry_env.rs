//! The production path end to end on a real DynamoDB implementation (moto): with
//! `SOCKET_REGISTRY_TABLE` and `SOCKET_REGISTRY_ENDPOINT` set, `Router::dispatch` registers a
//! connection after its connect, joins go to the table, and disconnect removes every record.
//! (Its own test binary: the environment is process-wide and the runtime reads it once.)

use serde::Deserialize;
use serde_json::{json, Value};
use socket_client::conformance::{self, Moto};
use socket_runtime::events::{self, EventContext, MessageBody};
use socket_runtime::{Registry, Router, Socket};

#[derive(Deserialize)]
struct Room {
    room: String,
}

#[tokio::test]
async fn the_registry_configured_by_the_environment_records_connections_in_dynamodb() {
    let moto = Moto::start();
    let table = "chat-dev-connections";
    conformance::create_table(&moto.endpoint(), table).await;
    std::env::set_var("SOCKET_REGISTRY_TABLE", table);
    std::env::set_var("SOCKET_REGISTRY_ENDPOINT", moto.endpoint());
    std::env::set_var("SOCKET_REGISTRY_TTL", "60");
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_REGION", "us-east-1");

    let router = Router::new()
        .on("connect", |_: Value, socket: Socket| async move {
            socket.set_attribute("name", "ada").await?;
            Ok(200)
        })
        .on("join", |data: Room, socket: Socket| async move {
            socket.join(&data.room).await?;
            Ok(())
        });
    let context = EventContext::new("L0SM9cOFvHcCIhw=");
    let connect = router
        .dispatch(events::connect(&context, &[], &[]))
        .await
        .unwrap();
    assert_eq!(connect.status_code, 200);
    let join = json!({"route": "join", "data": {"room": "lobby"}}).to_string();
    router
        .dispatch(events::message(
            &context,
            "$default",
            &MessageBody::Text(join),
            "m1",
        ))
        .await
        .unwrap();

    let registry = Registry::new(conformance::dynamodb(&moto.endpoint()), table);
    let record = registry
        .connection(context.connection_id.as_str())
        .await
        .unwrap()
        .expect("registered");
    assert_eq!(record.attributes.get("name"), Some(&json!("ada")));
    assert_eq!(record.connected_at_ms, context.connected_at_ms);
    assert_eq!(
        registry.members("lobby").await.unwrap(),
        [context.connection_id.as_str()]
    );
    // Every record expires: `ttl` is now + SOCKET_REGISTRY_TTL.
    let raw = registry
        .dynamodb()
        .call(
            "Query",
            &json!({
                "TableName": table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": "chan#lobby"}},
            }),
        )
        .await
        .unwrap();
    let ttl: u64 = raw["Items"][0]["ttl"]["N"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!((now + 50..=now + 70).contains(&ttl), "ttl {ttl}, now {now}");

    // Read once, at the first event: the variables going away changes nothing for this router
    // (the registry's table, endpoint and signing credentials were settled then).
    for name in [
        "SOCKET_REGISTRY_TABLE",
        "SOCKET_REGISTRY_ENDPOINT",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        std::env::remove_var(name);
    }
    router
        .dispatch(events::disconnect(&context, 1001, "Going away"))
        .await
        .unwrap();
    assert_eq!(
        registry.connection(&context.connection_id).await.unwrap(),
        None
    );
    assert!(registry.members("lobby").await.unwrap().is_empty());
    assert!(registry.connections().await.unwrap().is_empty());
}
