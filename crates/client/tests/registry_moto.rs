//! The registry's conformance suite against moto's DynamoDB server (a real implementation of the
//! JSON API), and against the in-memory tables handler unit tests use.

use socket_client::conformance::{self, Moto};
use socket_client::{DynamoDb, MemoryTables};

#[tokio::test]
async fn the_registry_passes_the_suite_on_moto_dynamodb() {
    let moto = Moto::start();
    let table = "chat-dev-connections";
    conformance::create_table(&moto.endpoint(), table).await;
    conformance::run(&moto.endpoint(), table).await;
    // Twice on the same table: the suite cleans up after itself and does not collide.
    conformance::run(&moto.endpoint(), table).await;
}

#[tokio::test]
async fn the_in_memory_tables_pass_the_same_suite() {
    let tables = std::sync::Arc::new(MemoryTables::new());
    conformance::run_on(DynamoDb::in_memory(tables.clone()), "memory-connections").await;
    assert_eq!(
        tables.item_count("memory-connections"),
        0,
        "the suite leaves nothing behind"
    );
}

#[tokio::test]
async fn a_missing_table_is_reported_as_such() {
    let moto = Moto::start();
    let registry =
        socket_client::Registry::new(conformance::dynamodb(&moto.endpoint()), "deleted-by-hand");
    let error = registry.members("lobby").await.unwrap_err();
    assert!(
        matches!(&error, socket_client::RegistryError::TableMissing { table } if table == "deleted-by-hand"),
        "{error:?}"
    );
    assert!(error.to_string().contains("socket deploy"), "{error}");
}
