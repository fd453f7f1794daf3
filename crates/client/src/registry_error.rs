//! [`RegistryError`]: why a registry call (join, members, broadcast, ...) failed.

use crate::channel::CHANNEL_RULE;
use crate::dynamodb::DynamoDbError;

/// Why a registry call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// `SOCKET_REGISTRY_TABLE` is not set: the service has no connection registry.
    #[error("the connection registry is off (SOCKET_REGISTRY_TABLE is not set): add `connections: true` to the inputs in serverless.yml and deploy (or restart `socket dev`)")]
    Disabled,
    /// A channel name breaks [`CHANNEL_RULE`].
    #[error("invalid channel name {channel:?}: {rule}", rule = CHANNEL_RULE)]
    InvalidChannel {
        /// The name given.
        channel: String,
    },
    /// The table does not exist (deleted by hand, or not deployed yet).
    #[error("the registry table {table} does not exist: run `socket deploy` to recreate it")]
    TableMissing {
        /// The table name in use.
        table: String,
    },
    /// `set_attribute` on a connection the registry does not hold (it disconnected, or was
    /// never registered).
    #[error("connection {connection_id} is not in the registry (it has disconnected)")]
    NotRegistered {
        /// The connection.
        connection_id: String,
    },
    /// DynamoDB kept some writes of a batch unprocessed (throttling) through every retry.
    #[error("DynamoDB left {count} registry writes unprocessed after every retry (throttled): try again")]
    Unprocessed {
        /// How many writes were not made.
        count: usize,
    },
    /// A DynamoDB call failed.
    #[error(transparent)]
    DynamoDb(DynamoDbError),
    /// The message could not be serialized to JSON.
    #[error("could not serialize the message to JSON: {0}")]
    Serialize(#[from] serde_json::Error),
}

impl RegistryError {
    /// A DynamoDB error, with a missing table named as such.
    pub(crate) fn from_dynamodb(error: DynamoDbError, table: &str) -> Self {
        match error.code() {
            Some("ResourceNotFoundException") => RegistryError::TableMissing {
                table: table.to_string(),
            },
            _ => RegistryError::DynamoDb(error),
        }
    }
}
