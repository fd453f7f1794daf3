//! The registry's conformance suite: every registry operation, against any DynamoDB endpoint.
//!
//! The same suite runs against moto's DynamoDB (a real implementation), the emulator's local
//! endpoint and the in-memory tables, so they are known to behave alike for the registry:
//!
//! ```no_run
//! # async fn example() {
//! // moto or DynamoDB Local: create the table first.
//! socket_client::conformance::create_table("http://127.0.0.1:5000", "suite-connections").await;
//! socket_client::conformance::run("http://127.0.0.1:5000", "suite-connections").await;
//! // socket dev's local endpoint, on its table:
//! socket_client::conformance::run("http://127.0.0.1:3111/@dynamodb", "app-dev-connections").await;
//! # }
//! ```
//!
//! Ids and channel names carry a per-run suffix, so the suite can share a table with other data
//! and run more than once. A failure panics with what differed.

mod management_stub;
mod moto;

pub use moto::Moto;

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::broadcast::{broadcast, BroadcastOptions};
use crate::credentials::Credentials;
use crate::dynamodb::DynamoDb;
use crate::management::{Frame, ManagementApi};
use crate::registry::{Audience, ConnectionRecord, Registry};
use crate::registry_error::RegistryError;

/// The region and dummy credentials the suite signs with (local servers accept any).
pub const REGION: &str = "us-east-1";

fn credentials() -> Credentials {
    Credentials::new("testing", "testing")
}

/// A DynamoDB client on `endpoint` with the suite's dummy credentials.
pub fn dynamodb(endpoint: &str) -> DynamoDb {
    DynamoDb::new(endpoint, REGION, Some(credentials())).expect("a usable endpoint")
}

/// Creates `table` with the registry's key schema, on-demand billing and TTL on `ttl` (for
/// servers that implement `CreateTable`, such as moto and DynamoDB Local).
pub async fn create_table(endpoint: &str, table: &str) {
    let db = dynamodb(endpoint);
    db.call(
        "CreateTable",
        &json!({
            "TableName": table,
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }),
    )
    .await
    .expect("CreateTable");
    db.call(
        "UpdateTimeToLive",
        &json!({
            "TableName": table,
            "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "ttl"},
        }),
    )
    .await
    .expect("UpdateTimeToLive");
}

/// Runs the suite against `table` (which must exist) on the DynamoDB at `endpoint`.
pub async fn run(endpoint: &str, table: &str) {
    run_on(dynamodb(endpoint), table).await;
}

/// Runs the suite through `db` (any transport, e.g. [`DynamoDb::in_memory`]).
pub async fn run_on(db: DynamoDb, table: &str) {
    // Pages of 2 so that every multi-item read crosses pages.
    let registry = Registry::new(db, table).with_page_size(2);
    let run = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_nanos()
        .to_string();
    connections_and_attributes(&registry, &run).await;
    channels_join_page_and_leave(&registry, &run).await;
    unregister_removes_everything(&registry, &run).await;
    invalid_channel_names_are_refused(&registry, &run).await;
    broadcast_delivers_retries_and_prunes(&registry, &run).await;
}

fn record(id: &str, attributes: Value) -> ConnectionRecord {
    ConnectionRecord {
        connection_id: id.to_string(),
        connected_at_ms: 1_707_503_008_123,
        source_ip: "203.0.113.7".into(),
        user_agent: "conformance/1.0".into(),
        attributes: attributes.as_object().cloned().unwrap_or_default(),
    }
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

async fn connections_and_attributes(registry: &Registry, run: &str) {
    // Ids as API Gateway makes them: base64 with `=` padding.
    let id = format!("attr-{run}=");
    let attributes = json!({"name": "ada", "age": 36, "tags": ["x", {"deep": true}], "none": null});
    registry
        .register(&record(&id, attributes.clone()))
        .await
        .expect("register");
    let stored = registry
        .connection(&id)
        .await
        .expect("GetItem")
        .expect("registered");
    assert_eq!(stored, record(&id, attributes.clone()));
    assert!(registry
        .connections()
        .await
        .expect("connections")
        .contains(&id));

    registry
        .set_attribute(&id, "role", json!("admin"))
        .await
        .expect("set_attribute");
    let mut expected: Map<String, Value> = attributes.as_object().cloned().unwrap();
    expected.insert("role".into(), json!("admin"));
    assert_eq!(
        registry.attributes(&id).await.expect("attributes"),
        Some(expected)
    );

    let missing = format!("never-{run}");
    assert_eq!(
        registry.attributes(&missing).await.expect("attributes"),
        None
    );
    assert!(matches!(
        registry.set_attribute(&missing, "x", json!(1)).await,
        Err(RegistryError::NotRegistered { .. })
    ));
    registry.unregister(&id).await.expect("unregister");
}

async fn channels_join_page_and_leave(registry: &Registry, run: &str) {
    let id = format!("member-{run}");
    registry
        .register(&record(&id, json!({})))
        .await
        .expect("register");
    let channels: Vec<String> = ["room:a", "room:b", "user@example.com/inbox"]
        .iter()
        .map(|name| format!("{name}-{run}"))
        .collect();
    for channel in &channels {
        registry.join(&id, channel).await.expect("join");
    }
    registry
        .join(&id, &channels[0])
        .await
        .expect("joining twice is harmless");
    assert_eq!(
        sorted(registry.channels_of(&id).await.expect("channels_of")),
        sorted(channels.clone())
    );

    // Five members: three pages of two.
    let crowd = &channels[0];
    let mut members = vec![id.clone()];
    for n in 0..4 {
        let other = format!("crowd-{n}-{run}");
        registry
            .register(&record(&other, json!({})))
            .await
            .expect("register");
        registry.join(&other, crowd).await.expect("join");
        members.push(other);
    }
    assert_eq!(
        sorted(registry.members(crowd).await.expect("members")),
        sorted(members.clone())
    );
    assert_eq!(registry.member_count(crowd).await.expect("member_count"), 5);
    let audience = Audience::Channel(crowd.clone());
    let first = registry.page(&audience, None).await.expect("a page");
    assert_eq!(first.ids.len(), 2, "the page size is 2");
    let cursor = first.next.expect("more pages after the first");
    let second = registry
        .page(&audience, Some(&cursor))
        .await
        .expect("a page");
    assert!(
        second.ids.iter().all(|id| !first.ids.contains(id)),
        "pages do not overlap"
    );

    registry.leave(&id, crowd).await.expect("leave");
    registry
        .leave(&id, crowd)
        .await
        .expect("leaving twice is harmless");
    assert!(!registry
        .members(crowd)
        .await
        .expect("members")
        .contains(&id));
    assert_eq!(registry.member_count(crowd).await.expect("member_count"), 4);
    assert_eq!(
        sorted(registry.channels_of(&id).await.expect("channels_of")),
        sorted(channels[1..].to_vec())
    );

    let unknown = format!("nobody-here-{run}");
    assert!(registry
        .members(&unknown)
        .await
        .expect("members")
        .is_empty());
    assert_eq!(
        registry.member_count(&unknown).await.expect("member_count"),
        0
    );

    for other in &members {
        registry.unregister(other).await.expect("unregister");
    }
    assert_eq!(registry.member_count(crowd).await.expect("member_count"), 0);
}

async fn unregister_removes_everything(registry: &Registry, run: &str) {
    let id = format!("leaver-{run}");
    registry
        .register(&record(&id, json!({"name": "bo"})))
        .await
        .expect("register");
    let channels: Vec<String> = (0..3).map(|n| format!("gone-{n}-{run}")).collect();
    for channel in &channels {
        registry.join(&id, channel).await.expect("join");
    }
    registry.unregister(&id).await.expect("unregister");
    assert_eq!(registry.connection(&id).await.expect("GetItem"), None);
    assert!(registry
        .channels_of(&id)
        .await
        .expect("channels_of")
        .is_empty());
    for channel in &channels {
        assert!(
            registry.members(channel).await.expect("members").is_empty(),
            "{channel}"
        );
    }
    assert!(!registry
        .connections()
        .await
        .expect("connections")
        .contains(&id));
    // No item of the connection is left at all (not only the ones the reads above look at).
    let left = registry
        .dynamodb()
        .call(
            "Query",
            &json!({
                "TableName": registry.table(),
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": format!("conn#{id}")}},
                "ConsistentRead": true,
            }),
        )
        .await
        .expect("Query");
    assert_eq!(left["Count"], 0, "{left}");
    registry
        .unregister(&id)
        .await
        .expect("unregistering twice is harmless");
}

async fn invalid_channel_names_are_refused(registry: &Registry, run: &str) {
    let id = format!("picky-{run}");
    let too_long = "x".repeat(129);
    for bad in ["", "has space", "hash#tag", "naïve", too_long.as_str()] {
        let refused = |outcome: Result<(), RegistryError>| {
            matches!(outcome, Err(RegistryError::InvalidChannel { .. }))
        };
        assert!(refused(registry.join(&id, bad).await), "join {bad:?}");
        assert!(refused(registry.leave(&id, bad).await), "leave {bad:?}");
        assert!(
            refused(registry.members(bad).await.map(|_| ())),
            "members {bad:?}"
        );
        assert!(
            refused(registry.member_count(bad).await.map(|_| ())),
            "member_count {bad:?}"
        );
    }
    assert!(
        registry
            .channels_of(&id)
            .await
            .expect("channels_of")
            .is_empty(),
        "nothing was written"
    );
}

async fn broadcast_delivers_retries_and_prunes(registry: &Registry, run: &str) {
    let channel = format!("cast-{run}");
    let delivered: Vec<String> = vec![
        format!("ok-1-{run}="),
        format!("ok-2-{run}"),
        format!("ok-3-{run}"),
        format!("busy-1-{run}"),
    ];
    let gone = vec![format!("gone-1-{run}"), format!("gone-2-{run}=")];
    for id in delivered.iter().chain(&gone) {
        registry
            .register(&record(id, json!({})))
            .await
            .expect("register");
        registry.join(id, &channel).await.expect("join");
    }
    let (endpoint, posts) = management_stub::start("dev").await;
    let management = ManagementApi::new(endpoint).with_credentials(credentials(), REGION);
    let frame = Frame::Text(r#"{"type":"notice","text":"hello"}"#.into());
    let options = BroadcastOptions {
        skip: None,
        concurrency: 2,
    };
    let audience = Audience::Channel(channel.clone());
    let report = broadcast(registry, &management, &audience, &frame, &options)
        .await
        .expect("broadcast");
    assert_eq!(report.delivered, delivered.len(), "{report:?}");
    assert_eq!(sorted(report.gone.clone()), sorted(gone.clone()));
    assert!(report.failed.is_empty(), "{report:?}");
    for id in &delivered {
        let expected = if id.starts_with("busy-") { 2 } else { 1 };
        assert_eq!(posts.to(id).len(), expected, "posts to {id}");
        assert!(posts
            .to(id)
            .iter()
            .all(|body| body == frame.text().unwrap()));
    }
    // The gone connections were pruned like a disconnect.
    assert_eq!(
        sorted(registry.members(&channel).await.expect("members")),
        sorted(delivered.clone())
    );
    for id in &gone {
        assert_eq!(
            registry.connection(id).await.expect("GetItem"),
            None,
            "{id}"
        );
        assert!(registry
            .channels_of(id)
            .await
            .expect("channels_of")
            .is_empty());
    }

    // Skipping the sender.
    let sender = &delivered[0];
    let again = broadcast(
        registry,
        &management,
        &audience,
        &frame,
        &options.clone().skipping(sender.clone()),
    )
    .await
    .expect("broadcast");
    assert_eq!(again.delivered, delivered.len() - 1, "{again:?}");
    assert_eq!(posts.to(sender).len(), 1, "the sender was skipped");

    for id in &delivered {
        registry.unregister(id).await.expect("unregister");
    }
}
