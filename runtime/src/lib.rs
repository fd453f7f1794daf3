//! Write the backend of an AWS API Gateway WebSocket API as a small Rust program.
//!
//! Register a handler per route with [`on`], then call [`run`]. The program is a standard Lambda
//! custom runtime (`bootstrap`): API Gateway invokes it for every connect, message and disconnect,
//! and the runtime calls the matching handler with the message's `data` and a [`Socket`] to reply.
//!
//! ```no_run
//! use serde::Deserialize;
//! use serde_json::{json, Value};
//! use socket_runtime::{before_route, on, run, Flow, Socket};
//!
//! #[derive(Deserialize)]
//! struct Chat {
//!     to: String,
//!     text: String,
//! }
//!
//! #[derive(Clone)]
//! struct User(String);
//!
//! #[tokio::main]
//! async fn main() -> Result<(), socket_runtime::Error> {
//!     // Middleware: runs before the `connect` handler and can answer in its place.
//!     before_route("connect", |socket: Socket| async move {
//!         match socket.query("token") {
//!             Some("let-me-in") => {
//!                 socket.insert(User("alice".into()));
//!                 Ok(Flow::Continue)
//!             }
//!             _ => Ok(Flow::respond(401)), // non-2xx rejects the handshake
//!         }
//!     });
//!     on("connect", |_: Value, socket: Socket| async move {
//!         let user = socket.get::<User>().map(|user| user.0);
//!         tracing::info!(?user, id = socket.connection_id(), "connected");
//!         Ok(200)
//!     });
//!     // {"route": "echo", "data": ...}: `data` arrives as is.
//!     on("echo", |data: Value, socket: Socket| async move {
//!         socket.send(&data).await?; // to the caller, as a JSON text frame
//!         Ok(())
//!     });
//!     // Typed data: a message whose `data` does not fit gets a JSON error frame, not a panic.
//!     on("chat", |chat: Chat, socket: Socket| async move {
//!         match socket.send_to(&chat.to, &json!({ "text": chat.text })).await {
//!             Err(error) if error.is_gone() => Ok(410), // that client has left
//!             other => other.map(|_| 200).map_err(Into::into),
//!         }
//!     });
//!     // Everything else: unknown routes, non-JSON text and binary frames.
//!     on("default", |data: Value, socket: Socket| async move {
//!         let body = socket.body().unwrap_or_default().to_string();
//!         socket.send(&json!({ "unrouted": body, "data": data })).await?;
//!         Ok(())
//!     });
//!     on("disconnect", |_: Value, _socket: Socket| async move { Ok(()) });
//!     run().await
//! }
//! ```
//!
//! # Routing
//!
//! | Event | Handler | `data` |
//! |---|---|---|
//! | `$connect` | `connect` | `null` (headers and query on the [`Socket`]) |
//! | `$disconnect` | `disconnect` | `null` |
//! | a custom route key (one API Gateway route per handler) | that handler | the body's `data` field |
//! | `$default` with a JSON body whose route field names a handler | that handler | the body's `data` field |
//! | `$default`, anything else | `default` | the whole JSON body; the text as a JSON string if not JSON; `null` for binary frames ([`Socket::body_bytes`]) |
//!
//! The route field comes from the route selection expression in `SOCKET_ROUTE_SELECTION`
//! (`$request.body.route` when unset; dotted paths such as `$request.body.meta.action` work).
//!
//! # Answers
//!
//! A handler returns `Ok(())` (200), `Ok(status)` or `Ok(`[`Response`]`)` (status, headers, body —
//! e.g. `Sec-WebSocket-Protocol` on connect). On `connect`, a non-2xx status rejects the connection.
//! `Err(error)` is logged and reported to Lambda as a function error (`Socket.HandlerError`): API Gateway refuses the handshake on connect and sends the caller its "Internal server error" frame on a message; `data` that does not deserialize into the handler's type
//! answers 400 and sends the caller `{"error":"invalid_data","route":..,"message":..}`.
//!
//! # Sending
//!
//! [`Socket::send`] (JSON), [`Socket::send_text`], [`Socket::send_binary`], their `*_to` variants
//! for any connection id, [`Socket::disconnect`] and [`Socket::info`] call the API Gateway
//! management API, SigV4-signed with the function's credentials (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`). The endpoint is
//! `https://{domainName}/{stage}` from the event unless `SOCKET_MANAGEMENT_ENDPOINT` overrides it
//! (custom domains, the local emulator). A connection that has left yields [`SendError::Gone`].
//!
//! # Connections and channels
//!
//! With `connections: true` in serverless.yml, deploy and `socket dev` set
//! `SOCKET_REGISTRY_TABLE` and the runtime keeps a registry of connections in DynamoDB: it records
//! each connection once `connect` answered 2xx (with the attributes set there by
//! [`Socket::set_attribute`]) and removes it after `disconnect`. Handlers use [`Socket::join`],
//! [`Socket::leave`], [`Socket::members`], [`Socket::member_count`], [`Socket::channels`],
//! [`Socket::attributes`], [`Socket::broadcast`], [`Socket::broadcast_except`] and
//! [`Socket::broadcast_all`] (a [`BroadcastReport`]: delivered, gone and pruned, failed). Without
//! the table they fail with [`RegistryError::Disabled`]. [`Client`] does the same from any program.
//!
//! # Testing
//!
//! [`testing::TestApp`] dispatches realistic events in process and records what handlers send;
//! [`events`] builds the API Gateway event JSON itself.

pub mod testing;
/// Builders of the API Gateway WebSocket events (from `socket-protocol`).
pub use socket_protocol::events;

mod catch_panic;
mod error;
mod handler;
mod lifecycle;
mod management;
mod middleware;
mod response;
mod router;
mod socket;
mod socket_registry;

use std::future::Future;
use std::sync::{LazyLock, Mutex, MutexGuard};

use serde::de::DeserializeOwned;

pub use error::{BoxError, Error};
pub use management::{ConnectionIdentity, ConnectionInfo, Frame, SendError};
pub use middleware::Flow;
pub use response::{IntoResponse, Response};
pub use router::{DispatchError, NotInLambda, Router};
pub use socket::Socket;
/// Send from anywhere, and the connection registry (from `socket-client`).
pub use socket_client::{
    Audience, BroadcastOptions, BroadcastReport, Client, ClientConfig, ClientConfigError,
    Credentials, DynamoDb, Registry, RegistryError, CHANNEL_RULE,
};
pub use socket_protocol::env::{
    MANAGEMENT_ENDPOINT as MANAGEMENT_ENDPOINT_ENV, ROUTE_SELECTION as ROUTE_SELECTION_ENV,
};
pub use socket_protocol::route_selection::{
    route_selection_expression, select_route, DEFAULT_ROUTE_SELECTION,
};

/// The re-exported event types, for building or inspecting events.
pub use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};

/// The process-wide router behind [`on`], [`before`], [`before_route`] and [`run`].
static GLOBAL: LazyLock<Mutex<Router>> = LazyLock::new(|| Mutex::new(Router::new()));

fn global() -> MutexGuard<'static, Router> {
    GLOBAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A copy of the handlers and middleware registered so far.
pub(crate) fn global_router() -> Router {
    global().clone()
}

/// Registers `handler` for `route` (`connect`, `disconnect`, `default`, or a message route).
///
/// The handler gets the message's `data` as any `T: DeserializeOwned` (`serde_json::Value` takes
/// anything) and the [`Socket`]; it returns `Ok(())`, `Ok(status)` or `Ok(`[`Response`]`)`, or an error.
pub fn on<F, T, Fut, R>(route: &str, handler: F)
where
    F: Fn(T, Socket) -> Fut + Send + Sync + 'static,
    T: DeserializeOwned + Send + 'static,
    Fut: Future<Output = Result<R, Error>> + Send + 'static,
    R: IntoResponse + 'static,
{
    global().add_handler(route, handler);
}

/// Adds middleware that runs before every handler (see [`Router::before`]).
pub fn before<F, Fut>(middleware: F)
where
    F: Fn(Socket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Flow, Error>> + Send + 'static,
{
    global().add_before(middleware);
}

/// Adds middleware that runs before one route's handler (see [`Router::before_route`]).
pub fn before_route<F, Fut>(route: &str, middleware: F)
where
    F: Fn(Socket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Flow, Error>> + Send + 'static,
{
    global().add_before_route(route, middleware);
}

/// Runs the Lambda runtime loop with the handlers registered by [`on`]; returns only on a fatal error.
pub async fn run() -> Result<(), Error> {
    let router = std::mem::take(&mut *global());
    router.run().await
}
