//! [`Router`]: a set of handlers and middleware, and the dispatch of API Gateway WebSocket events.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tracing::Instrument;

use crate::authorize::{self, Authorization, AuthorizeRequest, ErasedAuthorizer};
use crate::catch_panic::CatchPanic;
use crate::config::Config;
use crate::error::Error;
use crate::handler::{ErasedHandler, Failure, TypedHandler};
use crate::invocation_log;
use crate::lifecycle::{after_connect, after_disconnect};
use crate::management::{Management, Transport};
use crate::middleware::{ErasedMiddleware, Flow};
use crate::response::{IntoResponse, Response};
use crate::socket::Socket;
use crate::state::States;
use serde::Serialize;
use socket_client::Registry;
use socket_protocol::authorizer::is_authorizer_event;
use socket_protocol::invocation_log::Outcome;
use socket_protocol::route_selection::select_route_in;

/// A set of handlers and middleware, and the dispatcher that runs them for each event.
///
/// The free functions [`on`](crate::on), [`before`](crate::before) and [`run`](crate::run) use one
/// process-wide `Router`; build your own to keep independent handler sets (e.g. in tests):
///
/// ```
/// use socket_runtime::{Router, Socket};
/// use serde_json::Value;
///
/// let router = Router::new()
///     .on("connect", |_: Value, _socket: Socket| async move { Ok(200) })
///     .on("echo", |data: Value, socket: Socket| async move { socket.send(&data).await?; Ok(()) });
/// assert_eq!(router.routes(), ["connect", "echo"]);
/// ```
///
/// Application state (an SDK client, a pool, settings) is given once with
/// [`with_state`](Self::with_state) and read by handlers and middleware with
/// [`Socket::state`]; [`run`](Self::run) serves the router:
///
/// ```no_run
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use serde_json::{json, Value};
/// use socket_runtime::{Router, Socket};
///
/// struct AppState {
///     messages: AtomicU64,
/// }
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> Result<(), socket_runtime::Error> {
///     Router::new()
///         .on("count", |_: Value, socket: Socket| async move {
///             let seen = socket.state::<AppState>().messages.fetch_add(1, Ordering::Relaxed) + 1;
///             socket.send(&json!({ "seen": seen })).await?;
///             Ok(())
///         })
///         .with_state(AppState { messages: AtomicU64::new(0) })
///         .run()
///         .await
/// }
/// ```
#[derive(Clone, Default)]
pub struct Router {
    handlers: HashMap<String, Arc<dyn ErasedHandler>>,
    before_all: Vec<Arc<dyn ErasedMiddleware>>,
    before_route: HashMap<String, Vec<Arc<dyn ErasedMiddleware>>>,
    /// The `$connect` authorizer's handler ([`on_authorize`](Self::on_authorize)).
    authorizer: Option<ErasedAuthorizer>,
    states: States,
    /// The configuration given with [`config`](Self::config); `None`: read from the environment.
    config: Option<Config>,
    route_selection: Option<String>,
    management_endpoint: Option<String>,
    registry: Option<Registry>,
    /// The configuration in effect, settled on the first event (or by `run`) and then shared by
    /// every event's `Socket`.
    resolved: OnceLock<Arc<Config>>,
}

/// The event could not be dispatched at all (reported to Lambda as a function error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DispatchError {
    /// The event has no `requestContext.routeKey`: the function is wired to something other
    /// than an API Gateway WebSocket API.
    #[error("the event is not an API Gateway WebSocket event (requestContext.routeKey is missing); this function only serves a WebSocket API")]
    NotWebSocketEvent,
    /// A handler or middleware returned an error. Reported to Lambda as a function error, so API
    /// Gateway does what it does for one: refuses the handshake on `$connect` (500) and sends the
    /// caller its `{"message": "Internal server error", ...}` frame on a message.
    #[error("the `{route}` handler failed: {message}")]
    HandlerFailed {
        /// The handler's route.
        route: String,
        /// The error, as displayed.
        message: String,
    },
    /// A handler or middleware panicked (a bug in it); the process keeps serving.
    #[error("the `{route}` handler panicked: {message}")]
    HandlerPanicked {
        /// The handler's route.
        route: String,
        /// The panic message.
        message: String,
    },
}

impl From<DispatchError> for Diagnostic {
    fn from(error: DispatchError) -> Self {
        let error_type = match error {
            DispatchError::NotWebSocketEvent => "Socket.NotWebSocketEvent",
            DispatchError::HandlerPanicked { .. } => "Socket.HandlerPanicked",
            DispatchError::HandlerFailed { .. } => "Socket.HandlerError",
        };
        Diagnostic {
            error_type: error_type.to_string(),
            error_message: error.to_string(),
        }
    }
}

/// What the function answers: a proxy integration's response, or an authorizer's policy.
// One per invocation, serialized at once: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize)]
#[serde(untagged)]
enum Reply {
    Proxy(ApiGatewayProxyResponse),
    Policy(Value),
}

/// The handler name an authorize handler's failures are reported under.
const AUTHORIZE: &str = "authorize";

/// The function is not running inside Lambda (or the emulator).
#[derive(Debug, thiserror::Error)]
#[error("{missing} is not set: this program is a Lambda function (custom runtime `bootstrap`); run it locally with `socket dev` or deploy it with `socket deploy`")]
pub struct NotInLambda {
    /// The first missing Lambda environment variable.
    pub missing: &'static str,
}

/// The handler a route key and body lead to, and the `data` it gets.
struct Target {
    name: String,
    data: Value,
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` for `route`: `connect`, `disconnect`, `default` (also accepted as
    /// `$connect`, `$disconnect`, `$default`) or a message route name. Replaces an earlier one.
    pub fn on<F, T, Fut, R>(mut self, route: &str, handler: F) -> Self
    where
        F: Fn(T, Socket) -> Fut + Send + Sync + 'static,
        T: DeserializeOwned + Send + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: IntoResponse + 'static,
    {
        self.add_handler(route, handler);
        self
    }

    pub(crate) fn add_handler<F, T, Fut, R>(&mut self, route: &str, handler: F)
    where
        F: Fn(T, Socket) -> Fut + Send + Sync + 'static,
        T: DeserializeOwned + Send + 'static,
        Fut: Future<Output = Result<R, Error>> + Send + 'static,
        R: IntoResponse + 'static,
    {
        self.handlers
            .insert(handler_name(route), Arc::new(TypedHandler::new(handler)));
    }

    /// Registers the `$connect` authorizer: API Gateway invokes the function with a REQUEST
    /// authorizer event before `$connect` when the manifest has `authorizer:`, and this handler
    /// answers [`Authorization::allow`] (with a context every event of the connection sees in
    /// [`Socket::authorizer`]) or [`Authorization::deny`] (403, `connect` does not run). An
    /// error makes API Gateway answer 500. Replaces an earlier one.
    ///
    /// ```
    /// use serde_json::json;
    /// use socket_runtime::{Authorization, AuthorizeRequest, Router};
    ///
    /// let router = Router::new().on_authorize(|request: AuthorizeRequest| async move {
    ///     Ok(match request.query("token") {
    ///         Some("let-me-in") => Authorization::allow("guest").with_context(json!({"plan": "free"})),
    ///         _ => Authorization::deny(),
    ///     })
    /// });
    /// # let _ = router;
    /// ```
    pub fn on_authorize<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(AuthorizeRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Authorization, Error>> + Send + 'static,
    {
        self.add_authorizer(handler);
        self
    }

    pub(crate) fn add_authorizer<F, Fut>(&mut self, handler: F)
    where
        F: Fn(AuthorizeRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Authorization, Error>> + Send + 'static,
    {
        self.authorizer = Some(authorize::erase(handler));
    }

    /// Adds middleware that runs before every handler, in the order added. It may attach values
    /// with [`Socket::insert`] or answer in the handler's place with [`Flow::respond`].
    pub fn before<F, Fut>(mut self, middleware: F) -> Self
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Flow, Error>> + Send + 'static,
    {
        self.add_before(middleware);
        self
    }

    pub(crate) fn add_before<F, Fut>(&mut self, middleware: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Flow, Error>> + Send + 'static,
    {
        self.before_all.push(Arc::new(middleware));
    }

    /// Adds middleware that runs before the handler of one route (after the [`before`](Self::before) ones).
    /// It runs even when the route has no handler (e.g. auth on `connect`).
    pub fn before_route<F, Fut>(mut self, route: &str, middleware: F) -> Self
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Flow, Error>> + Send + 'static,
    {
        self.add_before_route(route, middleware);
        self
    }

    pub(crate) fn add_before_route<F, Fut>(&mut self, route: &str, middleware: F)
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Flow, Error>> + Send + 'static,
    {
        self.before_route
            .entry(handler_name(route))
            .or_default()
            .push(Arc::new(middleware));
    }

    /// Adds application state every handler and middleware reaches with [`Socket::state`]
    /// (one value per type; a later one of the same type replaces it). Wrap what must change in
    /// a `Mutex` or an atomic: the state is shared, not cloned per event.
    pub fn with_state<T: Send + Sync + 'static>(mut self, state: T) -> Self {
        self.states.insert(state);
        self
    }

    /// Uses `config` instead of reading the environment ([`Config::from_env`]) when the router
    /// starts; [`route_selection`](Self::route_selection) and
    /// [`management_endpoint`](Self::management_endpoint) still apply on top.
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self.resolved = OnceLock::new();
        self
    }

    /// Uses this route selection expression instead of `SOCKET_ROUTE_SELECTION`
    /// (default `$request.body.route`).
    pub fn route_selection(mut self, expression: impl Into<String>) -> Self {
        self.route_selection = Some(expression.into());
        self.resolved = OnceLock::new();
        self
    }

    /// Sends management API calls to this endpoint instead of `SOCKET_MANAGEMENT_ENDPOINT` or the
    /// one derived from the event (`https://{domainName}/{stage}`). An empty one changes nothing.
    pub fn management_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.management_endpoint = Some(endpoint.into());
        self.resolved = OnceLock::new();
        self
    }

    /// Uses this connection registry instead of the configuration's (`SOCKET_REGISTRY_TABLE`).
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self.resolved = OnceLock::new();
        self
    }

    /// The configuration in effect: the given one or the environment's, read on first use only,
    /// with this router's overrides.
    fn resolved_config(&self) -> &Arc<Config> {
        self.resolved.get_or_init(|| {
            let mut config = self.config.clone().unwrap_or_else(Config::from_env);
            if let Some(expression) = &self.route_selection {
                config = config.route_selection(expression.as_str());
            }
            if let Some(endpoint) = self.management_endpoint.as_deref() {
                if !endpoint.trim().is_empty() {
                    config = config.management_endpoint(endpoint);
                }
            }
            if let Some(registry) = &self.registry {
                config = config.registry(registry.clone());
            }
            Arc::new(config)
        })
    }

    /// The names of the registered handlers, sorted.
    pub fn routes(&self) -> Vec<String> {
        let mut routes: Vec<String> = self.handlers.keys().cloned().collect();
        routes.sort();
        routes
    }

    /// Dispatches one event as in production: middleware, handler, management API over HTTP,
    /// and the registry's bookkeeping when it is on.
    pub async fn dispatch(
        &self,
        event: ApiGatewayWebsocketProxyRequest,
    ) -> Result<ApiGatewayProxyResponse, DispatchError> {
        let registry = self.resolved_config().registry_in_use().cloned();
        self.dispatch_with(event, Transport::Http, registry).await
    }

    /// Dispatches one event as JSON, as the Lambda runtime loop does: a REQUEST authorizer event
    /// goes to the [`on_authorize`](Self::on_authorize) handler and answers its IAM policy;
    /// any other event is a WebSocket event for [`dispatch`](Self::dispatch).
    pub async fn dispatch_event(&self, event: Value) -> Result<Value, DispatchError> {
        Ok(match self.dispatch_any(event).await? {
            Reply::Proxy(response) => serde_json::to_value(response).unwrap_or(Value::Null),
            Reply::Policy(policy) => policy,
        })
    }

    async fn dispatch_any(&self, event: Value) -> Result<Reply, DispatchError> {
        if is_authorizer_event(&event) {
            let request: AuthorizeRequest =
                serde_json::from_value(event).map_err(|_| DispatchError::NotWebSocketEvent)?;
            return self.authorize(request).await.map(Reply::Policy);
        }
        let event: ApiGatewayWebsocketProxyRequest =
            serde_json::from_value(event).map_err(|_| DispatchError::NotWebSocketEvent)?;
        self.dispatch(event).await.map(Reply::Proxy)
    }

    /// Runs the authorize handler; with none registered, denies and says why in the log.
    async fn authorize(&self, request: AuthorizeRequest) -> Result<Value, DispatchError> {
        let method_arn = request.method_arn.clone();
        let span = tracing::info_span!(
            "socket",
            route = AUTHORIZE,
            connection_id = %request.connection_id(),
        );
        let Some(handler) = &self.authorizer else {
            span.in_scope(|| {
                tracing::error!(
                    "an authorizer event arrived but no authorize handler is registered: denying the connection; register one with `on_authorize` or remove `authorizer:` from serverless.yml"
                )
            });
            return Ok(Authorization::deny().into_policy(&method_arn));
        };
        match CatchPanic::new(handler(request).instrument(span.clone())).await {
            Ok(Ok(authorization)) => {
                span.in_scope(|| {
                    tracing::debug!(allowed = authorization.is_allowed(), "authorized")
                });
                Ok(authorization.into_policy(&method_arn))
            }
            Ok(Err(error)) => {
                span.in_scope(|| tracing::error!(error = %error, "authorize handler failed"));
                Err(DispatchError::HandlerFailed {
                    route: AUTHORIZE.into(),
                    message: error.to_string(),
                })
            }
            Err(message) => {
                span.in_scope(|| tracing::error!(panic = %message, "handler panicked"));
                Err(DispatchError::HandlerPanicked {
                    route: AUTHORIZE.into(),
                    message,
                })
            }
        }
    }

    pub(crate) async fn dispatch_with(
        &self,
        event: ApiGatewayWebsocketProxyRequest,
        transport: Transport,
        registry: Option<Registry>,
    ) -> Result<ApiGatewayProxyResponse, DispatchError> {
        let route_key = event
            .request_context
            .route_key
            .clone()
            .filter(|key| !key.is_empty())
            .ok_or(DispatchError::NotWebSocketEvent)?;
        let started = std::time::Instant::now();
        let config = self.resolved_config();
        let context = &event.request_context;
        let management = Management::new(
            config,
            context.domain_name.as_deref().unwrap_or_default(),
            context.stage.as_deref().unwrap_or_default(),
            transport,
        );
        let socket = Socket::from_event(&event, management, registry, self.states.clone());
        let target = self.target(&route_key, &socket, config);
        let span = tracing::info_span!(
            "socket",
            route = %target.name,
            connection_id = %socket.connection_id(),
        );
        let route = target.name.clone();
        let outcome = CatchPanic::new(
            self.run_target(target, socket.clone())
                .instrument(span.clone()),
        )
        .await;
        match (route_key.as_str(), &outcome) {
            ("$connect", Ok(Ok(response))) => {
                after_connect(&socket, response.status())
                    .instrument(span.clone())
                    .await
            }
            ("$disconnect", _) => after_disconnect(&socket).instrument(span.clone()).await,
            _ => {}
        }
        let logged = match &outcome {
            Ok(Ok(response)) => Outcome::Status(response.status()),
            Ok(Err(message)) => Outcome::Error(message.clone()),
            Err(message) => Outcome::Error(format!("panicked: {message}")),
        };
        invocation_log::write(
            invocation_log::route_label(&route),
            socket.connection_id(),
            event
                .request_context
                .request_id
                .as_deref()
                .unwrap_or_default(),
            logged,
            started,
        );
        match outcome {
            Ok(Ok(response)) => Ok(response.into_proxy_response()),
            Ok(Err(message)) => Err(DispatchError::HandlerFailed { route, message }),
            Err(message) => {
                span.in_scope(|| tracing::error!(panic = %message, "handler panicked"));
                Err(DispatchError::HandlerPanicked { route, message })
            }
        }
    }

    /// Middleware, then the handler; `Err` carries a failing handler's or middleware's error.
    async fn run_target(&self, target: Target, socket: Socket) -> Result<Response, String> {
        let route_middleware = self.before_route.get(&target.name).into_iter().flatten();
        for middleware in self.before_all.iter().chain(route_middleware) {
            match middleware.call(socket.clone()).await {
                Ok(Flow::Continue) => {}
                Ok(Flow::Respond(response)) => {
                    tracing::debug!(status = response.status(), "answered by middleware");
                    return Ok(response);
                }
                Err(error) => {
                    tracing::error!(error = %error, "middleware failed");
                    return Err(error.to_string());
                }
            }
        }
        let Some(handler) = self.handlers.get(&target.name) else {
            return match socket.event_type() {
                "MESSAGE" => {
                    tracing::warn!(
                        "no handler for this message and no `default` handler; answering 404"
                    );
                    Ok(Response::new(404))
                }
                _ => Ok(Response::ok()),
            };
        };
        match handler.call(target.data, socket.clone()).await {
            Ok(response) => {
                tracing::debug!(status = response.status(), "handled");
                Ok(response)
            }
            Err(Failure::Failed(error)) => {
                tracing::error!(error = %error, "handler failed");
                Err(error.to_string())
            }
            Err(Failure::InvalidData(error)) => {
                tracing::warn!(error = %error, "the message's data does not fit the handler's type; answering 400");
                if socket.event_type() == "MESSAGE" {
                    let frame = json!({
                        "error": "invalid_data",
                        "route": target.name,
                        "message": format!("the message's data does not match what route `{}` expects: {error}", target.name),
                    });
                    if let Err(send_error) = socket.send(&frame).await {
                        tracing::warn!(error = %send_error, "could not send the error frame to the caller");
                    }
                }
                Ok(Response::new(400))
            }
        }
    }

    /// Which handler an event goes to, and its `data`.
    fn target(&self, route_key: &str, socket: &Socket, config: &Config) -> Target {
        match route_key {
            "$connect" => return target("connect", Value::Null),
            "$disconnect" => return target("disconnect", Value::Null),
            _ => {}
        }
        let json = match socket.body() {
            Some(text) => serde_json::from_str::<Value>(text).ok(),
            None => None,
        };
        let default_data = match (&json, socket.body()) {
            (Some(json), _) => json.clone(),
            (None, Some(text)) => Value::String(text.to_string()),
            (None, None) => Value::Null,
        };
        let selected = if route_key == "$default" {
            json.as_ref()
                .zip(config.route_path())
                .and_then(|(json, path)| select_route_in(path, json))
        } else {
            // A custom route key: API Gateway already selected the route.
            Some(route_key.to_string())
        };
        match selected {
            Some(name) if !is_reserved(&name) && self.handlers.contains_key(&name) => {
                let data = json
                    .as_ref()
                    .and_then(|json| json.get("data"))
                    .cloned()
                    .unwrap_or(Value::Null);
                Target { name, data }
            }
            _ => target("default", default_data),
        }
    }

    /// Starts the Lambda runtime loop and dispatches every event to this router.
    ///
    /// Reads the [`Config`] from the environment here, once (unless given with
    /// [`config`](Self::config)). Installs the Lambda log format (`tracing`, `AWS_LAMBDA_LOG_LEVEL`/`RUST_LOG`,
    /// `AWS_LAMBDA_LOG_FORMAT=json`) unless a subscriber is already set.
    pub async fn run(self) -> Result<(), Error> {
        for variable in [
            "AWS_LAMBDA_RUNTIME_API",
            "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            "AWS_LAMBDA_FUNCTION_VERSION",
        ] {
            if std::env::var_os(variable).is_none() {
                return Err(NotInLambda { missing: variable }.into());
            }
        }
        if !tracing::dispatcher::has_been_set() {
            lambda_runtime::tracing::init_default_subscriber();
        }
        self.resolved_config();
        let router = Arc::new(self);
        // Read as JSON first: the same function serves the `$connect` authorizer's events.
        let service = service_fn(move |event: LambdaEvent<Value>| {
            let router = Arc::clone(&router);
            async move { router.dispatch_any(event.payload).await }
        });
        // The loop runs as a spawned task rather than in the caller's `block_on`: hyper's
        // connection tasks then wake it through the scheduler's run queue, whereas waking a
        // `block_on` future goes through the runtime's eventfd and an extra turn of epoll
        // (`strace`: 7 → 4 `epoll_pwait` per invocation).
        match tokio::spawn(lambda_runtime::run(service)).await {
            Ok(result) => result.map_err(Error::from),
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(join) => Err(Error::msg(format!(
                "the Lambda runtime loop stopped: {join}"
            ))),
        }
    }
}

fn target(name: &str, data: Value) -> Target {
    Target {
        name: name.to_string(),
        data,
    }
}

/// Handler names for API Gateway's reserved routes cannot be selected by a message.
fn is_reserved(name: &str) -> bool {
    matches!(name, "connect" | "disconnect" | "default")
}

/// `$connect` → `connect`, `$disconnect` → `disconnect`, `$default` → `default`; others as is.
fn handler_name(route: &str) -> String {
    match route {
        "$connect" => "connect".to_string(),
        "$disconnect" => "disconnect".to_string(),
        "$default" => "default".to_string(),
        other => other.to_string(),
    }
}
