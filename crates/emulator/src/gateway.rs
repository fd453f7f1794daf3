//! The WebSocket side of the emulator, with API Gateway's semantics.
//!
//! One HTTP server on one port serves the WebSocket endpoint (`/{stage}`) and the management API
//! (`/{stage}/@connections/{id}`). The handshake is answered only after `$connect` returned:
//! 2xx completes it (passing back a `Sec-WebSocket-Protocol` the handler chose), anything else
//! refuses it with that HTTP status. Every message becomes a MESSAGE event for the route the
//! selection expression picks (a declared custom route, else `$default`); a failed invocation
//! sends the client API Gateway's error frame and keeps the connection. Every connection that
//! was accepted gets exactly one `$disconnect`, whoever closed it.
//!
//! Here: serving and routing requests, invoking the function. The handshake is in [`handshake`],
//! an open connection's loop in [`connection_loop`], the closing handshake in [`close`].

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use socket_protocol::events;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;

mod close;
mod connection_loop;
mod handshake;

use super::authorizer::ConnectAuthorizer;
use super::connections::{Connection, Lifecycles, Registry};
use super::invocation::{Failure, Outcome};
use super::limits::Limits;
use super::workers::Pool;
use super::{dynamodb, management, output, responses};

/// API Gateway gives up on an integration after 29 seconds, whatever the function timeout.
const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);
/// How long a closing connection waits for the client's close frame.
const CLOSE_HANDSHAKE_GRACE: Duration = Duration::from_secs(2);

/// What the gateway emulates.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    pub stage: String,
    /// `requestContext.apiId`.
    pub api_id: String,
    /// The route selection expression, e.g. `$request.body.route`.
    pub route_selection: String,
    /// Custom route keys declared in the manifest; any other selected value goes to `$default`.
    pub routes: Vec<String>,
    /// The `$connect` authorizer (`authorizer:` in the manifest), run before `$connect`.
    pub authorizer: Option<ConnectAuthorizer>,
    pub limits: Limits,
    /// The connection registry's tables, served at `POST /@dynamodb` when `socket dev` holds them.
    pub dynamodb: Option<Arc<dynamodb::Store>>,
}

type WebSocket = WebSocketStream<TokioIo<Upgraded>>;

pub struct Gateway {
    config: GatewayConfig,
    pool: Arc<Pool>,
    pub(super) registry: Registry,
    lifecycles: Lifecycles,
    shutdown: watch::Sender<bool>,
}

impl Gateway {
    pub fn new(config: GatewayConfig, pool: Arc<Pool>) -> Arc<Self> {
        Arc::new(Self {
            config,
            pool,
            registry: Registry::default(),
            lifecycles: Lifecycles::default(),
            shutdown: watch::channel(false).0,
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.config.limits
    }

    /// Serves `listener` until `stop` completes, then closes every connection (1001 "Going
    /// away") and waits for their `$disconnect` handlers.
    pub async fn serve(self: &Arc<Self>, listener: TcpListener, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, remote)) = accepted else { continue };
                    let _ = stream.set_nodelay(true);
                    let gateway = Arc::clone(self);
                    tokio::spawn(async move {
                        let service = service_fn(move |request| {
                            let gateway = Arc::clone(&gateway);
                            async move { Ok::<_, Infallible>(gateway.route(request, remote).await) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .with_upgrades()
                            .await;
                    });
                }
                _ = &mut stop => break,
            }
        }
        drop(listener);
        let open = self.registry.len();
        if open > 0 {
            output::line("gateway", &format!("closing {open} connection(s)"));
        }
        self.shutdown.send_replace(true);
        let grace = INTEGRATION_TIMEOUT + CLOSE_HANDSHAKE_GRACE;
        if tokio::time::timeout(grace, self.lifecycles.all_ended())
            .await
            .is_err()
        {
            output::line("gateway", "gave up waiting for $disconnect handlers");
        }
    }

    async fn route(
        self: &Arc<Self>,
        request: Request<Incoming>,
        remote: SocketAddr,
    ) -> Response<Full<Bytes>> {
        let stage_path = format!("/{}", self.config.stage);
        let path = request.uri().path().to_string();
        if let (Some(store), true) = (&self.config.dynamodb, dynamodb::serves(&path)) {
            return dynamodb::handle(store, request).await;
        }
        if path == stage_path || path == format!("{stage_path}/") {
            if handshake::is_websocket_upgrade(&request) {
                return self.handshake(request, remote).await;
            }
            return responses::text(
                StatusCode::UPGRADE_REQUIRED,
                "This is a WebSocket endpoint: connect with a WebSocket client (ws://).\n",
            );
        }
        if let Some(id) = path.strip_prefix(&format!("{stage_path}/@connections/")) {
            return management::handle(self, request, id).await;
        }
        management::forbidden()
    }

    /// Runs `$disconnect` for a connection that ended.
    async fn disconnect(&self, connection: &Connection, code: u16, reason: &str) {
        let context = connection.context.next_request();
        let event = events::to_json(&events::disconnect(&context, code, reason));
        let outcome = self.invoke(&event, "$disconnect", &connection.id).await;
        let result = match outcome {
            Outcome::Response(body) => format!("$disconnect {}", status_text(&body)),
            Outcome::Failed(failure) => format!("$disconnect failed: {failure}"),
        };
        let reason = if reason.is_empty() {
            String::new()
        } else {
            format!(" \"{reason}\"")
        };
        output::line(
            "gateway",
            &format!("{} disconnected ({code}{reason}); {result}", connection.id),
        );
    }

    pub(super) async fn invoke(&self, event: &Value, route: &str, connection_id: &str) -> Outcome {
        self.submit(event, route, connection_id).await
    }

    /// Queues an invocation now; the returned future waits for it (at most API Gateway's
    /// integration timeout).
    fn submit(
        &self,
        event: &Value,
        route: &str,
        connection_id: &str,
    ) -> impl Future<Output = Outcome> + Send + 'static {
        let pending = self
            .pool
            .submit(Bytes::from(event.to_string()), route, connection_id);
        async move {
            match tokio::time::timeout(INTEGRATION_TIMEOUT, pending).await {
                Ok(outcome) => outcome,
                Err(_) => Outcome::Failed(Failure::Timeout(INTEGRATION_TIMEOUT)),
            }
        }
    }
}

fn status_text(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|value| value.get("statusCode").and_then(Value::as_u64))
        .map_or_else(|| "ok".to_string(), |code| code.to_string())
}
