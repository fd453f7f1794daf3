//! The connection registry's operations against `socket dev`'s local DynamoDB endpoint: the same
//! suite `socket-client` runs against moto's DynamoDB (`crates/client/tests/registry_moto.rs`),
//! so the local endpoint answers the runtime's calls as a real DynamoDB implementation does.

use socket_emulator::dynamodb::LocalEndpoint;

#[tokio::test]
async fn the_registry_suite_passes_against_the_local_endpoint() {
    let table = "conformance-dev-connections";
    let endpoint = LocalEndpoint::start(table).await.expect("start the endpoint");
    socket_client::conformance::run(&endpoint.url(), table).await;
    // Twice on one table, as on moto: the suite's ids are per run and it cleans up after itself.
    socket_client::conformance::run(&endpoint.url(), table).await;
}
