//! Unit-test handlers without AWS or a network.
//!
//! [`TestApp`] dispatches realistic API Gateway events (built by [`crate::events`]) through the same
//! code path as production, and records every management API call the handlers make instead of
//! sending it.
//!
//! Its connection registry is on, in memory: the production [`Registry`] code, down to the JSON of
//! each DynamoDB call, answered by [`socket_client::MemoryTables`] instead of a server (the tables
//! pass the same conformance suite as DynamoDB). So `join`, `members`, `broadcast` and the
//! registration around `connect`/`disconnect` behave as deployed; broadcast frames are recorded
//! like sends, and a connection [marked gone](TestApp::mark_gone) answers 410 and is pruned.
//!
//! ```
//! use socket_runtime::{testing::TestApp, Router, Socket};
//! use serde_json::{json, Value};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let app = TestApp::new(Router::new().on("echo", |data: Value, socket: Socket| async move {
//!     socket.send(&data).await?;
//!     Ok(())
//! }));
//! let alice = app.connection("alice");
//! assert_eq!(alice.connect().await.status(), 200);
//! alice.send_json(&json!({"route": "echo", "data": {"hi": 1}})).await;
//! assert_eq!(alice.received_json(), [json!({"hi": 1})]);
//! # });
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use serde::Serialize;

use crate::events::{self, EventContext, MessageBody};
use socket_client::Registry;

use crate::management::{ConnectionIdentity, ConnectionInfo, Frame, SendError, Transport};
use crate::response::Response;
use crate::router::{DispatchError, Router};

/// One frame a handler sent through the management API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// The connection it was sent to.
    pub to: String,
    /// What was sent.
    pub frame: Frame,
}

/// Records management API calls in memory (the test stand-in for the HTTP client).
#[derive(Default)]
pub(crate) struct Recorder {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    sent: Vec<Sent>,
    disconnected: Vec<String>,
    /// Live connections and what `info` reports for them.
    live: HashMap<String, ConnectionInfo>,
}

impl Recorder {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn gone(connection_id: &str) -> SendError {
        SendError::Gone {
            connection_id: connection_id.to_string(),
        }
    }

    pub(crate) fn post(&self, connection_id: &str, frame: Frame) -> Result<(), SendError> {
        let mut state = self.state();
        if !state.live.contains_key(connection_id) {
            return Err(Self::gone(connection_id));
        }
        state.sent.push(Sent {
            to: connection_id.to_string(),
            frame,
        });
        Ok(())
    }

    pub(crate) fn delete(&self, connection_id: &str) -> Result<(), SendError> {
        let mut state = self.state();
        if state.live.remove(connection_id).is_none() {
            return Err(Self::gone(connection_id));
        }
        state.disconnected.push(connection_id.to_string());
        Ok(())
    }

    pub(crate) fn get(&self, connection_id: &str) -> Result<ConnectionInfo, SendError> {
        self.state()
            .live
            .get(connection_id)
            .cloned()
            .ok_or_else(|| Self::gone(connection_id))
    }
}

/// A router under test: dispatches events in process and records what handlers send.
pub struct TestApp {
    router: Router,
    recorder: Arc<Recorder>,
    registry: Registry,
}

impl TestApp {
    /// Tests `router`, with its configuration: the one given with
    /// [`Router::config`](crate::Router::config), else the environment's, read on the first event.
    pub fn new(router: Router) -> Self {
        Self {
            router,
            recorder: Arc::new(Recorder::default()),
            registry: Registry::in_memory(),
        }
    }

    /// Tests the handlers registered so far with the global [`on`](crate::on) / [`before`](crate::before).
    pub fn global() -> Self {
        Self::new(crate::global_router())
    }

    /// A client connection with id `connection_id` (not yet connected: call
    /// [`TestConnection::connect`]). Until it disconnects, sends to it succeed and are recorded;
    /// sends to ids never opened here fail with [`SendError::Gone`], as on API Gateway.
    pub fn connection(&self, connection_id: &str) -> TestConnection<'_> {
        self.connection_with(EventContext::new(connection_id))
    }

    /// A client connection with a fully specified [`EventContext`] (stage, domain, source ip, ...).
    pub fn connection_with(&self, context: EventContext) -> TestConnection<'_> {
        let info = ConnectionInfo {
            connected_at: events::format_iso8601(context.connected_at_ms),
            last_active_at: events::format_iso8601(context.request_time_ms),
            identity: ConnectionIdentity {
                source_ip: context.source_ip.clone(),
                user_agent: context.user_agent.clone(),
            },
        };
        self.recorder
            .state()
            .live
            .insert(context.connection_id.clone(), info);
        TestConnection { app: self, context }
    }

    /// Dispatches any event through the production path (with sends recorded).
    ///
    /// # Panics
    /// When dispatch fails as a Lambda error would: the event is not a WebSocket event (no
    /// `requestContext.routeKey`), or a handler panicked. A handler that returns an error (a
    /// function error too, which API Gateway answers with 500) gives a 500 response here.
    pub async fn dispatch(&self, event: ApiGatewayWebsocketProxyRequest) -> Response {
        match self
            .router
            .dispatch_with(
                event,
                Transport::Recorder(Arc::clone(&self.recorder)),
                Some(self.registry.clone()),
            )
            .await
        {
            Ok(response) => Response::from_proxy_response(&response),
            Err(DispatchError::HandlerFailed { .. }) => Response::new(500),
            Err(error) => panic!("{error}"),
        }
    }

    /// Dispatches an event given as API Gateway JSON (e.g. a fixture file).
    ///
    /// # Panics
    /// When the JSON is not a WebSocket event.
    pub async fn dispatch_json(&self, event: &str) -> Response {
        let event: ApiGatewayWebsocketProxyRequest =
            serde_json::from_str(event).expect("the JSON is not an API Gateway WebSocket event");
        self.dispatch(event).await
    }

    /// The in-memory connection registry the handlers use, to inspect or prepare it.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Every frame sent so far, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.recorder.state().sent.clone()
    }

    /// The frames sent to `connection_id`, in order.
    pub fn sent_to(&self, connection_id: &str) -> Vec<Frame> {
        self.recorder
            .state()
            .sent
            .iter()
            .filter(|sent| sent.to == connection_id)
            .map(|sent| sent.frame.clone())
            .collect()
    }

    /// The connections handlers closed with [`Socket::disconnect`](crate::Socket::disconnect), in order.
    pub fn disconnected(&self) -> Vec<String> {
        self.recorder.state().disconnected.clone()
    }

    /// Makes `connection_id` gone: later sends to it fail with [`SendError::Gone`].
    pub fn mark_gone(&self, connection_id: &str) {
        self.recorder.state().live.remove(connection_id);
    }

    /// Forgets the recorded frames and disconnects (connections stay as they are).
    pub fn clear(&self) {
        let mut state = self.recorder.state();
        state.sent.clear();
        state.disconnected.clear();
    }
}

/// One simulated client connection of a [`TestApp`].
pub struct TestConnection<'a> {
    app: &'a TestApp,
    context: EventContext,
}

impl TestConnection<'_> {
    /// The connection id.
    pub fn id(&self) -> &str {
        &self.context.connection_id
    }

    /// The event context this connection's events carry.
    pub fn context(&self) -> &EventContext {
        &self.context
    }

    /// Sends the `$connect` event with no headers or query. A non-2xx answer closes the connection.
    pub async fn connect(&self) -> Response {
        self.connect_with(&[], &[]).await
    }

    /// Sends the `$connect` event with handshake `headers` and URL `query` parameters.
    pub async fn connect_with(&self, headers: &[(&str, &str)], query: &[(&str, &str)]) -> Response {
        let owned = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect()
        };
        let event = events::connect(&self.context.next_request(), &owned(headers), &owned(query));
        let response = self.app.dispatch(event).await;
        if !response.is_success() {
            self.app.mark_gone(self.id());
        }
        response
    }

    /// Sends `message` serialized as JSON in a text frame on `$default` (route selection applies).
    pub async fn send_json<T: Serialize + ?Sized>(&self, message: &T) -> Response {
        let text = serde_json::to_string(message).expect("the test message serializes to JSON");
        self.send_text(&text).await
    }

    /// Sends a text frame on `$default`.
    pub async fn send_text(&self, text: &str) -> Response {
        self.send_on_route("$default", MessageBody::Text(text.to_string()))
            .await
    }

    /// Sends a binary frame on `$default`.
    pub async fn send_binary(&self, bytes: &[u8]) -> Response {
        self.send_on_route("$default", MessageBody::Binary(bytes.to_vec()))
            .await
    }

    /// Sends a frame that API Gateway matched to the custom route `route_key` (as deployed APIs do).
    pub async fn send_on_route(&self, route_key: &str, body: MessageBody) -> Response {
        let context = self.context.next_request();
        let message_id = format!("msg-{}", context.request_id);
        self.app
            .dispatch(events::message(&context, route_key, &body, &message_id))
            .await
    }

    /// Sends the `$disconnect` event (close code 1000) and marks the connection gone.
    pub async fn disconnect(&self) -> Response {
        self.disconnect_with(1000, "Client-side close frame status set")
            .await
    }

    /// Sends the `$disconnect` event with a close code and reason, and marks the connection gone.
    pub async fn disconnect_with(&self, status_code: u16, reason: &str) -> Response {
        self.app.mark_gone(self.id());
        let event = events::disconnect(&self.context.next_request(), status_code, reason);
        self.app.dispatch(event).await
    }

    /// The frames handlers sent to this connection, in order.
    pub fn received(&self) -> Vec<Frame> {
        self.app.sent_to(self.id())
    }

    /// The text frames sent to this connection, parsed as JSON (non-JSON frames are skipped).
    pub fn received_json(&self) -> Vec<serde_json::Value> {
        self.received().iter().filter_map(Frame::json).collect()
    }
}
