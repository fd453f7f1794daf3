//! Write the backend of an AWS API Gateway WebSocket API as a small Rust program: register a
//! handler per route with [`on`] and call [`run`], or build a [`Router`] with application state
//! ([`Router::with_state`], [`Socket::state`]) and call [`Router::run`]. [`testing::TestApp`]
//! runs handlers in tests; [`events`] builds the API Gateway event JSON itself.
//!
#![doc = include_str!("../HANDLER_API.md")]

pub mod testing;

mod authorize;
/// Builders of the API Gateway WebSocket events (from `socket-protocol`).
pub use socket_protocol::events;

mod catch_panic;
mod config;
mod error;
mod handler;
mod invocation_log;
mod lifecycle;
mod management;
mod middleware;
mod response;
mod router;
mod socket;
mod socket_registry;
mod state;

use std::future::Future;
use std::sync::{LazyLock, Mutex, MutexGuard};

use serde::de::DeserializeOwned;

pub use authorize::{Authorization, AuthorizeRequest};
pub use config::Config;
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

/// README.md's handler examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

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

/// Registers the `$connect` authorizer (see [`Router::on_authorize`]).
pub fn on_authorize<F, Fut>(handler: F)
where
    F: Fn(AuthorizeRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Authorization, Error>> + Send + 'static,
{
    global().add_authorizer(handler);
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
///
/// The short form of [`Router::run`]: reads the [`Config`] from the environment once, here. For
/// application state, build a [`Router`] with [`Router::with_state`] and run that instead.
pub async fn run() -> Result<(), Error> {
    let router = std::mem::take(&mut *global());
    router.run().await
}
