//! Talking to connections: the API Gateway management API (`POST/GET/DELETE @connections/{id}`).

use std::sync::Arc;

use serde::Deserialize;

use crate::config::Config;
use crate::management_http;
use crate::testing::Recorder;

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

/// Where management calls go: the real HTTP API in production, an in-memory recorder in `testing`.
#[derive(Clone)]
pub(crate) enum Transport {
    Http,
    Recorder(Arc<Recorder>),
}

/// The management API for one event: its endpoint, the signing configuration and the transport.
#[derive(Clone)]
pub(crate) struct Management {
    config: Arc<Config>,
    /// `https://{domain_name}/{stage}` when the configuration names no endpoint; empty otherwise,
    /// so a configured endpoint costs no allocation per event.
    derived_endpoint: String,
    transport: Transport,
}

impl Management {
    /// The management API for an event of `stage` on `domain_name`.
    pub(crate) fn new(
        config: Arc<Config>,
        domain_name: &str,
        stage: &str,
        transport: Transport,
    ) -> Self {
        let derived_endpoint = match config.management_endpoint_override() {
            Some(_) => String::new(),
            None => format!("https://{domain_name}/{stage}"),
        };
        Self {
            config,
            derived_endpoint,
            transport,
        }
    }

    /// The endpoint calls go to, without a trailing `/`.
    pub(crate) fn endpoint(&self) -> &str {
        self.config
            .management_endpoint_override()
            .unwrap_or(&self.derived_endpoint)
    }

    pub(crate) async fn post(&self, connection_id: &str, frame: Frame) -> Result<(), SendError> {
        match &self.transport {
            Transport::Http => {
                management_http::post(&self.config, self.endpoint(), connection_id, frame).await
            }
            Transport::Recorder(recorder) => recorder.post(connection_id, frame),
        }
    }

    pub(crate) async fn delete(&self, connection_id: &str) -> Result<(), SendError> {
        match &self.transport {
            Transport::Http => {
                management_http::delete(&self.config, self.endpoint(), connection_id).await
            }
            Transport::Recorder(recorder) => recorder.delete(connection_id),
        }
    }

    pub(crate) async fn get(&self, connection_id: &str) -> Result<ConnectionInfo, SendError> {
        match &self.transport {
            Transport::Http => {
                management_http::get(&self.config, self.endpoint(), connection_id).await
            }
            Transport::Recorder(recorder) => recorder.get(connection_id),
        }
    }
}
