//! Talk to a `socket` service from anywhere: a handler, another Lambda function, a worker, a
//! script.
//!
//! - [`ManagementApi`]: the API Gateway management API (`POST/GET/DELETE @connections/{id}`),
//!   SigV4-signed, over one pooled HTTP/1 client on rustls.
//! - [`Registry`]: the connection registry in DynamoDB (connections, their attributes, channels
//!   of them), through signed calls to DynamoDB's JSON API ([`DynamoDb`]) on the same client.
//! - [`broadcast()`]: one frame to a channel or everyone, paged, with bounded concurrency.
//! - [`Client`]: all of it for one stage, configured from its API id and region or the environment.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use socket_client::{Client, ClientConfig};
//!
//! let client = Client::new(ClientConfig {
//!     api_id: "abc123".into(),
//!     region: "eu-west-1".into(),
//!     stage: "prod".into(),
//!     table: Some("chat-prod-connections".into()),
//!     ..ClientConfig::default()
//! })?;
//! client.send("L0SM9cOFvHcCIhw=", &serde_json::json!({"type": "notice"})).await?;
//! let report = client.broadcast("lobby", &serde_json::json!({"type": "notice"})).await?;
//! println!("{} delivered, {} gone", report.delivered, report.gone.len());
//! # Ok(()) }
//! ```

mod attribute_value;
mod backoff;
mod broadcast;
mod channel;
mod client;
mod credentials;
mod dynamodb;
mod endpoints;
mod https;
mod management;
mod management_http;
mod memory_tables;
mod registry;
mod registry_error;
mod sigv4;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use broadcast::{broadcast, BroadcastOptions, BroadcastReport, DEFAULT_CONCURRENCY};
pub use channel::{validate_channel, CHANNEL_RULE};
pub use client::{Client, ClientConfig, ClientConfigError};
pub use credentials::{Credentials, Signing};
pub use dynamodb::{DynamoDb, DynamoDbError};
pub use endpoints::{dns_suffix, dynamodb_endpoint, management_endpoint};
pub use management::{
    ConnectionIdentity, ConnectionInfo, Deliver, Frame, ManagementApi, SendError,
};
pub use memory_tables::MemoryTables;
pub use registry::{
    Audience, ConnectionRecord, Cursor, Page, Registry, DEFAULT_TTL, MAX_PAGE_SIZE,
};
pub use registry_error::RegistryError;
