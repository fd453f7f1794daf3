//! [`Socket`]: the handle every handler gets — who is calling, and how to talk back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use aws_lambda_events::http::{Extensions, HeaderMap};
use aws_lambda_events::query_map::QueryMap;
use base64::Engine;
use serde::Serialize;

use serde_json::{Map, Value};
use socket_client::Registry;

use crate::management::{ConnectionInfo, Frame, Management, SendError};
use crate::state::States;

/// The raw body of the event, as the client sent it.
#[derive(Clone, Debug)]
pub(crate) enum RawBody {
    None,
    Text(String),
    Binary(Vec<u8>),
}

impl RawBody {
    /// Decodes `body` + `isBase64Encoded`. A binary frame that is not valid base64 is kept as text.
    pub(crate) fn from_event(event: &ApiGatewayWebsocketProxyRequest) -> Self {
        match &event.body {
            None => RawBody::None,
            Some(body) if event.is_base64_encoded => {
                match base64::engine::general_purpose::STANDARD.decode(body) {
                    Ok(bytes) => RawBody::Binary(bytes),
                    Err(_) => RawBody::Text(body.clone()),
                }
            }
            Some(body) => RawBody::Text(body.clone()),
        }
    }
}

/// The handle a handler gets: the connection and request it serves, and the management API.
///
/// Cheap to clone; clones share [extensions](Socket::insert) attached by middleware.
#[derive(Clone)]
pub struct Socket {
    inner: Arc<Inner>,
}

struct Inner {
    connection_id: String,
    route_key: String,
    event_type: String,
    stage: String,
    domain_name: String,
    api_id: String,
    request_id: String,
    message_id: Option<String>,
    connected_at_ms: i64,
    source_ip: Option<String>,
    user_agent: Option<String>,
    headers: HeaderMap,
    query: QueryMap,
    body: RawBody,
    disconnect_status_code: Option<i64>,
    disconnect_reason: Option<String>,
    /// `requestContext.authorizer`: empty when no authorizer ran for the connection.
    authorizer: Map<String, Value>,
    management: Management,
    /// `None` when the registry is off.
    registry: Option<Registry>,
    /// Attributes set during `connect`, written with the connection's record after it.
    pending_attributes: Mutex<Map<String, Value>>,
    states: States,
    extensions: Mutex<Extensions>,
}

impl Socket {
    pub(crate) fn from_event(
        event: &ApiGatewayWebsocketProxyRequest,
        management: Management,
        registry: Option<Registry>,
        states: States,
    ) -> Self {
        let context = &event.request_context;
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                connection_id: text(&context.connection_id),
                route_key: text(&context.route_key),
                event_type: text(&context.event_type),
                stage: text(&context.stage),
                domain_name: text(&context.domain_name),
                api_id: text(&context.apiid),
                request_id: text(&context.request_id),
                message_id: context.message_id.clone(),
                connected_at_ms: context.connected_at,
                source_ip: context.identity.source_ip.clone(),
                user_agent: context.identity.user_agent.clone(),
                // Connect events carry both maps; prefer the multi-valued one so repeats survive.
                headers: if event.multi_value_headers.is_empty() {
                    event.headers.clone()
                } else {
                    event.multi_value_headers.clone()
                },
                query: if event.multi_value_query_string_parameters.is_empty() {
                    event.query_string_parameters.clone()
                } else {
                    event.multi_value_query_string_parameters.clone()
                },
                body: RawBody::from_event(event),
                disconnect_status_code: context.disconnect_status_code,
                disconnect_reason: context.disconnect_reason.clone(),
                authorizer: context
                    .authorizer
                    .fields
                    .iter()
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect(),
                management,
                registry,
                pending_attributes: Mutex::new(Map::new()),
                states,
                extensions: Mutex::new(Extensions::new()),
            }),
        }
    }

    /// This connection's id (`requestContext.connectionId`): give it to [`send_to`](Self::send_to) later.
    pub fn connection_id(&self) -> &str {
        &self.inner.connection_id
    }

    /// The API Gateway route key: `$connect`, `$disconnect`, `$default` or a custom route.
    pub fn route_key(&self) -> &str {
        &self.inner.route_key
    }

    /// `CONNECT`, `MESSAGE` or `DISCONNECT`.
    pub fn event_type(&self) -> &str {
        &self.inner.event_type
    }

    /// The API stage, e.g. `dev`.
    pub fn stage(&self) -> &str {
        &self.inner.stage
    }

    /// The API's domain name, e.g. `abc123.execute-api.us-east-1.amazonaws.com`.
    pub fn domain_name(&self) -> &str {
        &self.inner.domain_name
    }

    /// The API id.
    pub fn api_id(&self) -> &str {
        &self.inner.api_id
    }

    /// The API Gateway request id of this event.
    pub fn request_id(&self) -> &str {
        &self.inner.request_id
    }

    /// The message id (message events only).
    pub fn message_id(&self) -> Option<&str> {
        self.inner.message_id.as_deref()
    }

    /// When the connection was established, in milliseconds since the Unix epoch.
    pub fn connected_at_ms(&self) -> i64 {
        self.inner.connected_at_ms
    }

    /// When the connection was established.
    pub fn connected_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(self.inner.connected_at_ms).unwrap_or(0))
    }

    /// The client's IP address.
    pub fn source_ip(&self) -> Option<&str> {
        self.inner.source_ip.as_deref()
    }

    /// The client's `User-Agent`, when API Gateway reports it.
    pub fn user_agent(&self) -> Option<&str> {
        self.inner.user_agent.as_deref()
    }

    /// A handshake header (connect only; case-insensitive). The first value when repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.inner
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
    }

    /// All handshake headers (connect only).
    pub fn headers(&self) -> &HeaderMap {
        &self.inner.headers
    }

    /// A query string parameter of the WebSocket URL (connect only). The first value when repeated.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.inner.query.first(name)
    }

    /// Every value of a repeated query string parameter (connect only).
    pub fn query_all(&self, name: &str) -> Vec<&str> {
        self.inner.query.all(name).unwrap_or_default()
    }

    /// All query string parameters (connect only).
    pub fn query_params(&self) -> &QueryMap {
        &self.inner.query
    }

    /// The message body as text: the frame's text, or `None` for binary frames and events without a body.
    pub fn body(&self) -> Option<&str> {
        match &self.inner.body {
            RawBody::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The message body as bytes: the decoded bytes of a binary frame, or a text frame's UTF-8.
    pub fn body_bytes(&self) -> Option<&[u8]> {
        match &self.inner.body {
            RawBody::Text(text) => Some(text.as_bytes()),
            RawBody::Binary(bytes) => Some(bytes),
            RawBody::None => None,
        }
    }

    /// Whether the message was a binary frame.
    pub fn is_binary(&self) -> bool {
        matches!(self.inner.body, RawBody::Binary(_))
    }

    /// The WebSocket close code (disconnect only).
    pub fn disconnect_status_code(&self) -> Option<i64> {
        self.inner.disconnect_status_code
    }

    /// Why the connection closed (disconnect only).
    pub fn disconnect_reason(&self) -> Option<&str> {
        self.inner.disconnect_reason.as_deref()
    }

    /// What the `$connect` authorizer answered for this connection (`requestContext.authorizer`):
    /// its context's fields and `principalId`, on connect and on every later event of the
    /// connection. `None` when no authorizer ran.
    pub fn authorizer(&self) -> Option<&Map<String, Value>> {
        (!self.inner.authorizer.is_empty()).then_some(&self.inner.authorizer)
    }

    /// The principal the `$connect` authorizer allowed (`requestContext.authorizer.principalId`).
    pub fn principal_id(&self) -> Option<&str> {
        self.inner
            .authorizer
            .get(socket_protocol::authorizer::PRINCIPAL_ID)?
            .as_str()
    }

    /// Attaches a value for later middleware and the handler (one value per type; replaces).
    pub fn insert<T: Clone + Send + Sync + 'static>(&self, value: T) {
        self.extensions().insert(value);
    }

    /// A value attached by middleware with [`insert`](Self::insert).
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.extensions().get::<T>().cloned()
    }

    /// The application state of type `T` given to [`Router::with_state`](crate::Router::with_state).
    ///
    /// # Panics
    /// When the router has no state of type `T` (the panic is reported like a handler's; see
    /// [`try_state`](Self::try_state) to check instead). The type must match exactly: state
    /// added as `Arc<AppState>` is `state::<Arc<AppState>>()`.
    pub fn state<T: Send + Sync + 'static>(&self) -> &T {
        self.try_state::<T>().unwrap_or_else(|| {
            panic!(
                "no state of type `{}`: add it with `Router::with_state` before running the router",
                std::any::type_name::<T>()
            )
        })
    }

    /// The application state of type `T`, or `None` when the router has none.
    pub fn try_state<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.inner.states.get::<T>()
    }

    fn extensions(&self) -> std::sync::MutexGuard<'_, Extensions> {
        // A panic while holding the lock leaves the map intact; keep using it.
        self.inner
            .extensions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends `message` as JSON in a text frame to the caller.
    pub async fn send<T: Serialize + ?Sized>(&self, message: &T) -> Result<(), SendError> {
        self.send_to(&self.inner.connection_id, message).await
    }

    /// Sends a text frame to the caller, as is.
    pub async fn send_text(&self, text: impl Into<String>) -> Result<(), SendError> {
        self.send_text_to(&self.inner.connection_id, text).await
    }

    /// Sends a binary frame to the caller.
    pub async fn send_binary(&self, bytes: impl Into<Vec<u8>>) -> Result<(), SendError> {
        self.send_binary_to(&self.inner.connection_id, bytes).await
    }

    /// Sends `message` as JSON in a text frame to any connection. [`SendError::Gone`] when it has closed.
    pub async fn send_to<T: Serialize + ?Sized>(
        &self,
        connection_id: &str,
        message: &T,
    ) -> Result<(), SendError> {
        let text = serde_json::to_string(message)?;
        self.inner
            .management
            .post(connection_id, Frame::Text(text))
            .await
    }

    /// Sends a text frame to any connection, as is.
    pub async fn send_text_to(
        &self,
        connection_id: &str,
        text: impl Into<String>,
    ) -> Result<(), SendError> {
        self.inner
            .management
            .post(connection_id, Frame::Text(text.into()))
            .await
    }

    /// Sends a binary frame to any connection.
    pub async fn send_binary_to(
        &self,
        connection_id: &str,
        bytes: impl Into<Vec<u8>>,
    ) -> Result<(), SendError> {
        self.inner
            .management
            .post(connection_id, Frame::Binary(bytes.into()))
            .await
    }

    /// Closes a connection (`DELETE @connections/{id}`); its `disconnect` handler runs afterwards.
    pub async fn disconnect(&self, connection_id: &str) -> Result<(), SendError> {
        self.inner.management.delete(connection_id).await
    }

    /// What API Gateway knows about a connection (`GET @connections/{id}`).
    pub async fn info(&self, connection_id: &str) -> Result<ConnectionInfo, SendError> {
        self.inner.management.get(connection_id).await
    }

    /// The management API endpoint in use, e.g. `https://abc123.execute-api.us-east-1.amazonaws.com/dev`.
    pub fn management_endpoint(&self) -> &str {
        self.inner.management.endpoint()
    }

    pub(crate) fn management(&self) -> &Management {
        &self.inner.management
    }

    pub(crate) fn registry_if_on(&self) -> Option<&Registry> {
        self.inner.registry.as_ref()
    }

    pub(crate) fn pending_attributes(&self) -> std::sync::MutexGuard<'_, Map<String, Value>> {
        self.inner
            .pending_attributes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("connection_id", &self.inner.connection_id)
            .field("route_key", &self.inner.route_key)
            .field("stage", &self.inner.stage)
            .field("request_id", &self.inner.request_id)
            .finish_non_exhaustive()
    }
}
