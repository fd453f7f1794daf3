//! Talking to connections: the API Gateway management API (`POST/GET/DELETE @connections/{id}`).

use std::future::Future;
use std::sync::Arc;

use serde::Deserialize;

use crate::credentials::{Credentials, Signing};
use crate::management_http;

/// One WebSocket frame sent to a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A text frame (JSON payloads are sent as text).
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

impl Frame {
    /// The text of a text frame.
    pub fn text(&self) -> Option<&str> {
        match self {
            Frame::Text(text) => Some(text),
            Frame::Binary(_) => None,
        }
    }

    /// A text frame parsed as JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(self.text()?).ok()
    }

    /// The raw bytes of either kind.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Frame::Text(text) => text.as_bytes(),
            Frame::Binary(bytes) => bytes,
        }
    }
}

/// Why a management API call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The connection no longer exists (HTTP 410): forget its id.
    #[error("connection {connection_id} is gone (410): the client disconnected")]
    Gone {
        /// The connection that is gone.
        connection_id: String,
    },
    /// The management API answered with an unexpected status (403: the function's role lacks
    /// `execute-api:ManageConnections`, or the signature was refused).
    #[error("the management API answered {status} for {method} {url}: {message}")]
    Api {
        /// The HTTP method of the call.
        method: &'static str,
        /// The URL called.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The response body, as the API sent it.
        message: String,
    },
    /// No credentials to sign the request with.
    #[error("cannot sign the management API request: {0} (Lambda sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; set them when running elsewhere)")]
    Credentials(String),
    /// The endpoint is not a usable `http(s)://host/stage` URL.
    #[error(
        "invalid management API endpoint {endpoint:?}: {reason} (check SOCKET_MANAGEMENT_ENDPOINT)"
    )]
    Endpoint {
        /// The endpoint in use.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The request could not be sent or its answer not read.
    #[error("could not reach the management API at {url}: {message}")]
    Transport {
        /// The URL called.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The payload could not be serialized to JSON.
    #[error("could not serialize the message to JSON: {0}")]
    Serialize(#[from] serde_json::Error),
}

impl SendError {
    /// Whether this is [`SendError::Gone`]: the connection ended and its id can be dropped.
    pub fn is_gone(&self) -> bool {
        matches!(self, SendError::Gone { .. })
    }
}

/// What `GET @connections/{id}` reports about a connection (the wire names are camelCase:
/// `connectedAt`, `identity.sourceIp`, `identity.userAgent`, `lastActiveAt`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ConnectionInfo {
    /// When the connection was established (ISO 8601).
    #[serde(rename = "connectedAt", alias = "ConnectedAt", default)]
    pub connected_at: String,
    /// When the connection last sent or received a message (ISO 8601).
    #[serde(rename = "lastActiveAt", alias = "LastActiveAt", default)]
    pub last_active_at: String,
    /// The caller's identity.
    #[serde(rename = "identity", alias = "Identity", default)]
    pub identity: ConnectionIdentity,
}

/// The caller of a connection, as API Gateway saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ConnectionIdentity {
    /// The client's IP address.
    #[serde(rename = "sourceIp", alias = "SourceIp", default)]
    pub source_ip: String,
    /// The client's `User-Agent`.
    #[serde(rename = "userAgent", alias = "UserAgent", default)]
    pub user_agent: String,
}

/// The management API of one stage, e.g. `https://abc123.execute-api.us-east-1.amazonaws.com/dev`.
///
/// Cheap to clone. Requests go over one process-wide pool of HTTP/1 connections.
#[derive(Clone, Debug)]
pub struct ManagementApi {
    endpoint: Arc<str>,
    signing: Signing,
}

impl ManagementApi {
    /// The API at `endpoint`, signed with the credentials and region in the environment
    /// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`), read
    /// now: make one and reuse it.
    pub fn new(endpoint: impl Into<Arc<str>>) -> Self {
        Self::signed(endpoint, Signing::from_env())
    }

    /// The API at `endpoint`, signed as `signing` says (no environment read).
    pub fn signed(endpoint: impl Into<Arc<str>>, signing: Signing) -> Self {
        let endpoint: Arc<str> = endpoint.into();
        let trimmed = endpoint.trim().trim_end_matches('/');
        // A configured endpoint is usually normalized already: then this copies nothing.
        let endpoint = if trimmed.len() == endpoint.len() {
            endpoint
        } else {
            Arc::from(trimmed)
        };
        Self { endpoint, signing }
    }

    /// Signs with these credentials and region instead.
    pub fn with_credentials(mut self, credentials: Credentials, region: impl Into<String>) -> Self {
        self.signing = Signing::new(Some(credentials), Some(region.into()));
        self
    }

    /// What calls are signed with.
    pub fn signing(&self) -> &Signing {
        &self.signing
    }

    /// The endpoint, without a trailing `/`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Sends one frame to a connection. [`SendError::Gone`] when it has closed.
    pub async fn post(&self, connection_id: &str, frame: Frame) -> Result<(), SendError> {
        management_http::post(&self.signing, &self.endpoint, connection_id, frame).await
    }

    /// Closes a connection.
    pub async fn delete(&self, connection_id: &str) -> Result<(), SendError> {
        management_http::delete(&self.signing, &self.endpoint, connection_id).await
    }

    /// What API Gateway knows about a connection.
    pub async fn get(&self, connection_id: &str) -> Result<ConnectionInfo, SendError> {
        management_http::get(&self.signing, &self.endpoint, connection_id).await
    }
}

/// Where frames to connections go: the management API, or a test's recorder. Broadcast is
/// generic over it.
pub trait Deliver: Sync {
    /// Sends one frame to one connection.
    fn deliver(
        &self,
        connection_id: &str,
        frame: Frame,
    ) -> impl Future<Output = Result<(), SendError>> + Send;
}

impl Deliver for ManagementApi {
    fn deliver(
        &self,
        connection_id: &str,
        frame: Frame,
    ) -> impl Future<Output = Result<(), SendError>> + Send {
        self.post(connection_id, frame)
    }
}
