//! The local DynamoDB endpoint driven by AWS's own SDK over loopback: signed requests, and every
//! answer parsed by the SDK's deserializers (errors into the SDK's error variants).

use std::collections::HashMap;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::operation::query::QueryError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, DeleteRequest, KeySchemaElement, KeyType,
    PutRequest, ScalarAttributeType, Select, TableStatus, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use socket_emulator::dynamodb::LocalEndpoint;

const TABLE: &str = "chat-dev-connections";

fn client(endpoint: &LocalEndpoint) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDLOCALTEST0000000",
            "local-test-secret",
            None,
            None,
            "test",
        ))
        .endpoint_url(endpoint.url())
        .http_client(socket_deploy::aws::http_client())
        .build();
    Client::from_conf(config)
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_string())
}

fn key(pk: &str, sk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

fn put(pk: &str, sk: &str) -> WriteRequest {
    WriteRequest::builder()
        .put_request(
            PutRequest::builder()
                .set_item(Some(key(pk, sk)))
                .build()
                .unwrap(),
        )
        .build()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn items_round_trip_with_every_attribute_type() {
    let endpoint = LocalEndpoint::start(TABLE).await.unwrap();
    let dynamodb = client(&endpoint);
    let mut item = key("conn#L0SM9cOFvHcCIhw=", "#conn");
    item.insert(
        "connectedAt".into(),
        AttributeValue::N("1700000000123".into()),
    );
    item.insert("sourceIp".into(), s("127.0.0.1"));
    item.insert("ttl".into(), AttributeValue::N((now() + 3600).to_string()));
    item.insert(
        "attributes".into(),
        AttributeValue::M(HashMap::from([
            ("name".into(), s("ada")),
            ("admin".into(), AttributeValue::Bool(true)),
            ("nothing".into(), AttributeValue::Null(true)),
            (
                "scores".into(),
                AttributeValue::L(vec![AttributeValue::N("1.5".into()), s("x")]),
            ),
        ])),
    );
    dynamodb
        .put_item()
        .table_name(TABLE)
        .set_item(Some(item.clone()))
        .send()
        .await
        .unwrap();
    let read = dynamodb
        .get_item()
        .table_name(TABLE)
        .set_key(Some(key("conn#L0SM9cOFvHcCIhw=", "#conn")))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!(read.item(), Some(&item));

    let deleted = dynamodb
        .delete_item()
        .table_name(TABLE)
        .set_key(Some(key("conn#L0SM9cOFvHcCIhw=", "#conn")))
        .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.attributes(), Some(&item));
    let read = dynamodb
        .get_item()
        .table_name(TABLE)
        .set_key(Some(key("conn#L0SM9cOFvHcCIhw=", "#conn")))
        .send()
        .await
        .unwrap();
    assert_eq!(read.item(), None);
}

#[tokio::test]
async fn queries_page_through_a_channel() {
    let endpoint = LocalEndpoint::start(TABLE).await.unwrap();
    let dynamodb = client(&endpoint);
    let members: Vec<String> = (0..60).map(|i| format!("id{i:02}")).collect();
    for batch in members.chunks(25) {
        let writes = batch.iter().map(|id| put("chan#room", id)).collect();
        let answer = dynamodb
            .batch_write_item()
            .request_items(TABLE, writes)
            .send()
            .await
            .unwrap();
        assert!(answer.unprocessed_items().unwrap().is_empty());
    }
    let query = || {
        dynamodb
            .query()
            .table_name(TABLE)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s("chan#room"))
            .consistent_read(true)
    };

    let first = query().limit(25).send().await.unwrap();
    assert_eq!(first.count(), 25);
    assert_eq!(first.scanned_count(), 25);
    assert_eq!(first.last_evaluated_key(), Some(&key("chan#room", "id24")));

    // The SDK's paginator follows LastEvaluatedKey to the end.
    let paged: Vec<String> = query()
        .limit(25)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .map(|item| item["sk"].as_s().unwrap().clone())
        .collect();
    assert_eq!(paged, members);

    let mut counted = 0;
    let mut pages = query()
        .select(Select::Count)
        .limit(25)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        assert!(page.items().is_empty());
        counted += page.count();
    }
    assert_eq!(counted, 60);

    // A connection's channels: begins_with on the sort key.
    let writes = vec![
        put("conn#a", "#conn"),
        put("conn#a", "chan#room"),
        put("conn#a", "chan#lobby"),
    ];
    dynamodb
        .batch_write_item()
        .request_items(TABLE, writes)
        .send()
        .await
        .unwrap();
    let channels = dynamodb
        .query()
        .table_name(TABLE)
        .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
        .expression_attribute_values(":pk", s("conn#a"))
        .expression_attribute_values(":prefix", s("chan#"))
        .send()
        .await
        .unwrap();
    let channels: Vec<&str> = channels
        .items()
        .iter()
        .map(|item| item["sk"].as_s().unwrap().as_str())
        .collect();
    assert_eq!(channels, ["chan#lobby", "chan#room"]);

    // Deletes in a batch, and expired items are not members.
    let deletes = members[..25]
        .iter()
        .map(|id| {
            WriteRequest::builder()
                .delete_request(
                    DeleteRequest::builder()
                        .set_key(Some(key("chan#room", id)))
                        .build()
                        .unwrap(),
                )
                .build()
        })
        .collect();
    dynamodb
        .batch_write_item()
        .request_items(TABLE, deletes)
        .send()
        .await
        .unwrap();
    let mut expired = key("chan#room", "id99");
    expired.insert("ttl".into(), AttributeValue::N((now() - 1).to_string()));
    dynamodb
        .put_item()
        .table_name(TABLE)
        .set_item(Some(expired))
        .send()
        .await
        .unwrap();
    let remaining = query().select(Select::Count).send().await.unwrap();
    assert_eq!(remaining.count(), 35);
    assert_eq!(remaining.last_evaluated_key(), None);
}

#[tokio::test]
async fn errors_reach_the_sdk_as_its_error_variants() {
    let endpoint = LocalEndpoint::start(TABLE).await.unwrap();
    let dynamodb = client(&endpoint);

    let missing = dynamodb
        .get_item()
        .table_name("no-such-table")
        .set_key(Some(key("a", "b")))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(missing, GetItemError::ResourceNotFoundException(_)),
        "{missing:?}"
    );
    assert_eq!(missing.message(), Some("Requested resource not found"));

    let invalid = dynamodb
        .query()
        .table_name(TABLE)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s("all"))
        .limit(0)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        !matches!(invalid, QueryError::ResourceNotFoundException(_)),
        "{invalid:?}"
    );
    assert_eq!(invalid.code(), Some("ValidationException"));
    assert!(invalid.message().unwrap().contains("at 'limit'"));

    let bad_key = dynamodb
        .get_item()
        .table_name(TABLE)
        .key("pk", s("a"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(bad_key.code(), Some("ValidationException"));
    assert_eq!(
        bad_key.message(),
        Some("The provided key element does not match the schema")
    );

    let scan = dynamodb
        .scan()
        .table_name(TABLE)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(scan.code(), Some("UnknownOperationException"));
}

#[tokio::test]
async fn tables_are_created_described_listed_and_deleted() {
    let endpoint = LocalEndpoint::start(TABLE).await.unwrap();
    let dynamodb = client(&endpoint);
    let created = dynamodb
        .create_table()
        .table_name("other-dev-connections")
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("sk")
                .key_type(KeyType::Range)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("sk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let description = created.table_description().unwrap();
    assert_eq!(description.table_status(), Some(&TableStatus::Active));
    assert_eq!(description.key_schema().len(), 2);

    let listed = dynamodb.list_tables().send().await.unwrap();
    assert_eq!(listed.table_names(), [TABLE, "other-dev-connections"]);

    let described = dynamodb
        .describe_table()
        .table_name(TABLE)
        .send()
        .await
        .unwrap();
    let table = described.table().unwrap();
    assert_eq!(table.table_name(), Some(TABLE));
    assert_eq!(table.item_count(), Some(0));
    assert!(table.creation_date_time().is_some());

    dynamodb
        .delete_table()
        .table_name("other-dev-connections")
        .send()
        .await
        .unwrap();
    let gone = dynamodb
        .describe_table()
        .table_name("other-dev-connections")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(gone, DescribeTableError::ResourceNotFoundException(_)),
        "{gone:?}"
    );
}
