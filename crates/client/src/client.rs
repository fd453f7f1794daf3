//! [`Client`]: send to a connection, a channel or everyone from any Rust program — another
//! Lambda function, a worker, a script — not only from a handler.

use serde::Serialize;

use crate::broadcast::{broadcast, BroadcastOptions, BroadcastReport};
use crate::credentials::{non_empty_env, region_from_env, Credentials, Signing};
use crate::dynamodb::{DynamoDb, DynamoDbError};
use crate::endpoints::{dynamodb_endpoint, management_endpoint};
use crate::management::{ConnectionInfo, Frame, ManagementApi, SendError};
use crate::registry::{Audience, Registry};
use crate::registry_error::RegistryError;

/// Where a [`Client`] sends, and as whom.
///
/// The management endpoint is `management_endpoint` when set (a custom domain, `socket dev`'s
/// `http://127.0.0.1:3111/{stage}`), else built from `api_id`, `region` and `stage`:
/// `https://{api_id}.execute-api.{region}.amazonaws.com/{stage}` (`.amazonaws.com.cn` in China).
#[derive(Clone, Debug, Default)]
pub struct ClientConfig {
    /// The WebSocket API's id (`socket info` shows it).
    pub api_id: String,
    /// The AWS region; empty → `AWS_REGION`, else `us-east-1`.
    pub region: String,
    /// The stage, e.g. `dev`.
    pub stage: String,
    /// The registry's table (`{service}-{stage}-connections`); `None` → no channels or broadcast.
    pub table: Option<String>,
    /// The management API endpoint, instead of the one built from the API id.
    pub management_endpoint: Option<String>,
    /// The DynamoDB endpoint, instead of DynamoDB in `region`.
    pub registry_endpoint: Option<String>,
    /// What to sign with; `None` → the environment's, read when the client is made.
    pub credentials: Option<Credentials>,
}

/// The configuration cannot make a client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientConfigError {
    /// Neither a management endpoint nor an API id and stage to build it from.
    #[error("no management API endpoint: set `management_endpoint`, or `api_id` and `stage` (from the environment: SOCKET_MANAGEMENT_ENDPOINT, or SOCKET_API_ID and SOCKET_STAGE; `socket info` shows them)")]
    NoManagementEndpoint,
    /// The registry endpoint is unusable.
    #[error(transparent)]
    Registry(#[from] DynamoDbError),
}

/// Sends to connections, channels and everyone. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    management: ManagementApi,
    registry: Option<Registry>,
}

impl Client {
    /// A client for one stage.
    pub fn new(config: ClientConfig) -> Result<Self, ClientConfigError> {
        let region = Some(config.region.trim().to_string())
            .filter(|region| !region.is_empty())
            .or_else(region_from_env)
            .unwrap_or_else(|| "us-east-1".to_string());
        let endpoint = match config
            .management_endpoint
            .filter(|endpoint| !endpoint.trim().is_empty())
        {
            Some(endpoint) => endpoint,
            None if !config.api_id.is_empty() && !config.stage.is_empty() => {
                management_endpoint(&config.api_id, &region, &config.stage)
            }
            None => return Err(ClientConfigError::NoManagementEndpoint),
        };
        let credentials = config.credentials.or_else(Credentials::from_env);
        let signing = Signing::new(credentials.clone(), Some(region.clone()));
        let registry = match config.table.filter(|table| !table.is_empty()) {
            Some(table) => {
                let endpoint = config
                    .registry_endpoint
                    .unwrap_or_else(|| dynamodb_endpoint(&region));
                let db = DynamoDb::new(&endpoint, &region, credentials)?;
                Some(Registry::new(db, table))
            }
            None => None,
        };
        Ok(Self {
            management: ManagementApi::signed(endpoint, signing),
            registry,
        })
    }

    /// A client configured from the environment a deployed function (or `socket dev`) has:
    /// `SOCKET_MANAGEMENT_ENDPOINT` or `SOCKET_API_ID` + `AWS_REGION` + `SOCKET_STAGE`,
    /// `SOCKET_REGISTRY_TABLE`, `SOCKET_REGISTRY_ENDPOINT`, `SOCKET_REGISTRY_TTL`, and the AWS
    /// credentials variables.
    pub fn from_env() -> Result<Self, ClientConfigError> {
        use socket_protocol::env;
        let mut client = Self::new(ClientConfig {
            api_id: non_empty_env(env::API_ID).unwrap_or_default(),
            region: region_from_env().unwrap_or_default(),
            stage: non_empty_env(env::STAGE).unwrap_or_default(),
            table: None,
            management_endpoint: non_empty_env(env::MANAGEMENT_ENDPOINT),
            registry_endpoint: None,
            credentials: None,
        })?;
        client.registry = Registry::from_env_signed(client.management.signing())?;
        Ok(client)
    }

    /// The management API in use.
    pub fn management(&self) -> &ManagementApi {
        &self.management
    }

    /// The registry, or [`RegistryError::Disabled`] when no table is configured.
    pub fn registry(&self) -> Result<&Registry, RegistryError> {
        self.registry.as_ref().ok_or(RegistryError::Disabled)
    }

    /// Sends `message` as JSON in a text frame to one connection.
    pub async fn send<T: Serialize + ?Sized>(
        &self,
        connection_id: &str,
        message: &T,
    ) -> Result<(), SendError> {
        let text = serde_json::to_string(message)?;
        self.management.post(connection_id, Frame::Text(text)).await
    }

    /// Sends a text frame to one connection, as is.
    pub async fn send_text(
        &self,
        connection_id: &str,
        text: impl Into<String>,
    ) -> Result<(), SendError> {
        self.management
            .post(connection_id, Frame::Text(text.into()))
            .await
    }

    /// Sends a binary frame to one connection.
    pub async fn send_binary(
        &self,
        connection_id: &str,
        bytes: impl Into<Vec<u8>>,
    ) -> Result<(), SendError> {
        self.management
            .post(connection_id, Frame::Binary(bytes.into()))
            .await
    }

    /// Closes a connection.
    pub async fn disconnect(&self, connection_id: &str) -> Result<(), SendError> {
        self.management.delete(connection_id).await
    }

    /// What API Gateway knows about a connection.
    pub async fn info(&self, connection_id: &str) -> Result<ConnectionInfo, SendError> {
        self.management.get(connection_id).await
    }

    /// Sends `message` as JSON to every member of `channel`.
    pub async fn broadcast<T: Serialize + ?Sized>(
        &self,
        channel: &str,
        message: &T,
    ) -> Result<BroadcastReport, RegistryError> {
        self.broadcast_to(
            &Audience::Channel(channel.to_string()),
            message,
            &BroadcastOptions::default(),
        )
        .await
    }

    /// Sends `message` as JSON to every registered connection.
    pub async fn broadcast_all<T: Serialize + ?Sized>(
        &self,
        message: &T,
    ) -> Result<BroadcastReport, RegistryError> {
        self.broadcast_to(&Audience::Everyone, message, &BroadcastOptions::default())
            .await
    }

    /// Sends `message` as JSON to `audience`, as `options` say.
    pub async fn broadcast_to<T: Serialize + ?Sized>(
        &self,
        audience: &Audience,
        message: &T,
        options: &BroadcastOptions,
    ) -> Result<BroadcastReport, RegistryError> {
        let frame = Frame::Text(serde_json::to_string(message)?);
        broadcast(
            self.registry()?,
            &self.management,
            audience,
            &frame,
            options,
        )
        .await
    }

    /// The members of a channel.
    pub async fn members(&self, channel: &str) -> Result<Vec<String>, RegistryError> {
        self.registry()?.members(channel).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_management_endpoint_comes_from_the_api_id_or_is_given() {
        let built = Client::new(ClientConfig {
            api_id: "abc123".into(),
            region: "cn-north-1".into(),
            stage: "prod".into(),
            ..ClientConfig::default()
        })
        .unwrap();
        assert_eq!(
            built.management().endpoint(),
            "https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod"
        );
        assert!(matches!(built.registry(), Err(RegistryError::Disabled)));

        let given = Client::new(ClientConfig {
            management_endpoint: Some("https://ws.example.com/live/".into()),
            table: Some("chat-live-connections".into()),
            region: "eu-west-1".into(),
            ..ClientConfig::default()
        })
        .unwrap();
        assert_eq!(given.management().endpoint(), "https://ws.example.com/live");
        let registry = given.registry().unwrap();
        assert_eq!(registry.table(), "chat-live-connections");
        assert_eq!(
            registry.dynamodb().endpoint(),
            "https://dynamodb.eu-west-1.amazonaws.com"
        );

        assert!(matches!(
            Client::new(ClientConfig::default()),
            Err(ClientConfigError::NoManagementEndpoint)
        ));
    }
}
