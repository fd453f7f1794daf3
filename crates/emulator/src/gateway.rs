//! The WebSocket side of the emulator, with API Gateway's semantics.
//!
//! One HTTP server on one port serves the WebSocket endpoint (`/{stage}`) and the management API
//! (`/{stage}/@connections/{id}`). The handshake is answered only after `$connect` returned:
//! 2xx completes it (passing back a `Sec-WebSocket-Protocol` the handler chose), anything else
//! refuses it with that HTTP status. Every message becomes a MESSAGE event for the route the
//! selection expression picks (a declared custom route, else `$default`); a failed invocation
//! sends the client API Gateway's error frame and keeps the connection. Every connection that
//! was accepted gets exactly one `$disconnect`, whoever closed it.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{header, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use socket_protocol::events::{self, EventContext, MessageBody};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use super::authorizer::{self, ConnectAuthorizer, Verdict};
use super::connections::{Connection, Lifecycles, Outbound, Registry};
use super::limits::{self, Limits};
use super::workers::{Failure, Outcome, Pool};
use super::{dynamodb, ids, management, output, responses};

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

/// Why a connection ended, as `$disconnect` reports it.
struct Closed {
    code: u16,
    reason: String,
    /// The gateway closes it (and sends the close frame); otherwise the client did.
    by_gateway: bool,
}

impl Closed {
    fn by_gateway(code: u16, reason: &str) -> Self {
        Self {
            code,
            reason: reason.to_string(),
            by_gateway: true,
        }
    }

    fn by_client(code: u16, reason: &str) -> Self {
        Self {
            code,
            reason: reason.to_string(),
            by_gateway: false,
        }
    }
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
            if is_websocket_upgrade(&request) {
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

    /// Runs `$connect`, then completes or refuses the handshake.
    async fn handshake(
        self: &Arc<Self>,
        mut request: Request<Incoming>,
        remote: SocketAddr,
    ) -> Response<Full<Bytes>> {
        let header_value = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        };
        let Some(key) = header_value("sec-websocket-key") else {
            return responses::text(StatusCode::BAD_REQUEST, "Sec-WebSocket-Key is missing\n");
        };
        if header_value("sec-websocket-version").as_deref() != Some("13") {
            let mut response = responses::text(
                StatusCode::UPGRADE_REQUIRED,
                "Unsupported WebSocket version\n",
            );
            response.headers_mut().insert(
                "sec-websocket-version",
                header::HeaderValue::from_static("13"),
            );
            return response;
        }

        let connected_at = SystemTime::now();
        let mut context = EventContext::new(ids::connection_id());
        context.api_id = self.config.api_id.clone();
        context.stage = self.config.stage.clone();
        context.domain_name = header_value("host").unwrap_or_else(|| "localhost".into());
        context.connected_at_ms = epoch_ms(connected_at);
        context.request_time_ms = context.connected_at_ms;
        context.source_ip = remote.ip().to_string();
        context.user_agent = header_value("user-agent").unwrap_or_default();
        let id = context.connection_id.clone();

        let mut headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
            .collect();
        // Headers API Gateway adds in front of the integration.
        headers.push(("X-Forwarded-For".into(), context.source_ip.clone()));
        headers.push(("X-Forwarded-Port".into(), local_port(&context.domain_name)));
        headers.push(("X-Forwarded-Proto".into(), "http".into()));
        let query = parse_query(request.uri().query().unwrap_or(""));
        if let Some(config) = &self.config.authorizer {
            match authorizer::authorize(self, config, &context, &headers, &query).await {
                // Every event of the connection carries it, from `$connect` on.
                Verdict::Allow(context_map) => context.authorizer = Some(context_map),
                Verdict::Refuse(status) => return responses::empty(status),
            }
        }
        let event = events::to_json(&events::connect(&context, &headers, &query));

        let started = Instant::now();
        let (status, protocol) = match self.invoke(&event, "$connect", &id).await {
            Outcome::Response(body) => connect_decision(&body),
            // A function error refuses the handshake with 502, as API Gateway answers
            // for a Lambda that failed.
            Outcome::Failed(failure) => {
                output::line("gateway", &format!("{id} $connect failed: {failure}"));
                (StatusCode::BAD_GATEWAY, None)
            }
        };
        if !status.is_success() {
            output::line(
                "gateway",
                &format!("{id} refused by $connect with {}", status.as_u16()),
            );
            return responses::empty(status);
        }
        if *self.shutdown.borrow() {
            return responses::text(
                StatusCode::SERVICE_UNAVAILABLE,
                "The emulator is shutting down\n",
            );
        }

        let (connection, outbound) = Connection::new(context, connected_at);
        self.registry.insert(Arc::clone(&connection));
        let lifecycle = self.lifecycles.begin();
        let upgrade = hyper::upgrade::on(&mut request);
        let gateway = Arc::clone(self);
        let config = self.config.limits.websocket_config();
        tokio::spawn(async move {
            let _lifecycle = lifecycle;
            match upgrade.await {
                Ok(upgraded) => {
                    let socket = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(config),
                    )
                    .await;
                    gateway.run_connection(connection, socket, outbound).await;
                }
                Err(_) => {
                    gateway.registry.remove(&connection.id);
                    gateway
                        .disconnect(&connection, limits::CLOSE_ABNORMAL, "")
                        .await;
                }
            }
        });
        output::line(
            "gateway",
            &format!(
                "{id} connected from {} ($connect {} in {})",
                remote.ip(),
                status.as_u16(),
                super::runtime_api::format_ms(started.elapsed())
            ),
        );

        let mut response = Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header(header::CONNECTION, "Upgrade")
            .header(header::UPGRADE, "websocket")
            .header("sec-websocket-accept", derive_accept_key(key.as_bytes()));
        if let Some(protocol) = protocol {
            response = response.header("sec-websocket-protocol", protocol);
        }
        response
            .body(Full::new(Bytes::new()))
            .unwrap_or_else(|_| responses::empty(StatusCode::INTERNAL_SERVER_ERROR))
    }

    /// Reads the client's frames and writes what the gateway sends, until the connection ends;
    /// then runs `$disconnect`.
    async fn run_connection(
        self: Arc<Self>,
        connection: Arc<Connection>,
        mut socket: WebSocket,
        mut outbound: mpsc::UnboundedReceiver<Outbound>,
    ) {
        let limits = self.config.limits;
        let expires = Instant::now() + limits.max_connection_duration;
        let mut shutdown = self.shutdown.subscribe();
        let mut oversized = false;
        let closed = loop {
            let idle_at = connection.last_active_instant() + limits.idle_timeout;
            tokio::select! {
                frame = socket.next() => match frame {
                    Some(Ok(Message::Text(text))) => {
                        self.on_message(&connection, MessageBody::Text(text.to_string()));
                    }
                    Some(Ok(Message::Binary(data))) => {
                        self.on_message(&connection, MessageBody::Binary(data.to_vec()));
                    }
                    Some(Ok(Message::Ping(_))) => connection.touch(),
                    Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Close(frame))) => {
                        break match frame {
                            Some(frame) => Closed::by_client(u16::from(frame.code), &frame.reason),
                            None => Closed::by_client(limits::CLOSE_NO_STATUS, ""),
                        };
                    }
                    Some(Err(WsError::Capacity(_))) => {
                        oversized = true;
                        break Closed::by_gateway(limits::CLOSE_MESSAGE_TOO_BIG, limits::REASON_MESSAGE_TOO_BIG);
                    }
                    Some(Err(_)) | None => break Closed::by_client(limits::CLOSE_ABNORMAL, ""),
                },
                command = outbound.recv() => match command {
                    Some(Outbound::Message { message, written }) => {
                        if socket.send(message).await.is_err() {
                            break Closed::by_client(limits::CLOSE_ABNORMAL, "");
                        }
                        if let Some(written) = written {
                            let _ = written.send(());
                        }
                    }
                    Some(Outbound::Close { code, reason }) => break Closed::by_gateway(code, &reason),
                    None => break Closed::by_gateway(limits::CLOSE_GOING_AWAY, limits::REASON_GOING_AWAY),
                },
                _ = tokio::time::sleep_until(idle_at.into()) => {
                    if connection.last_active_instant().elapsed() >= limits.idle_timeout {
                        break Closed::by_gateway(limits::CLOSE_GOING_AWAY, limits::REASON_GOING_AWAY);
                    }
                }
                _ = tokio::time::sleep_until(expires.into()) => {
                    break Closed::by_gateway(limits::CLOSE_GOING_AWAY, limits::REASON_GOING_AWAY);
                }
                _ = stopping(&mut shutdown) => {
                    break Closed::by_gateway(limits::CLOSE_GOING_AWAY, limits::REASON_GOING_AWAY);
                }
            }
        };
        self.registry.remove(&connection.id);
        outbound.close();
        finish_close(&mut socket, &closed, oversized).await;
        drop(socket);
        self.disconnect(&connection, closed.code, &closed.reason)
            .await;
    }

    /// Turns one client message into a MESSAGE event; a failure sends the error frame.
    fn on_message(self: &Arc<Self>, connection: &Arc<Connection>, body: MessageBody) {
        connection.touch();
        let selected = match &body {
            MessageBody::Text(text) => events::select_route(&self.config.route_selection, text),
            MessageBody::Binary(_) => None,
        };
        let route = selected
            .filter(|route| self.config.routes.iter().any(|declared| declared == route))
            .unwrap_or_else(|| "$default".to_string());
        let context = connection.context.next_request();
        let event = events::to_json(&events::message(
            &context,
            &route,
            &body,
            &ids::connection_id(),
        ));
        // Submitted here, in the order the frames arrived, so a single worker sees them in order.
        let pending = self.submit(&event, &route, &connection.id);
        let connection = Arc::clone(connection);
        tokio::spawn(async move {
            if let Outcome::Failed(failure) = pending.await {
                output::line(
                    "gateway",
                    &format!(
                        "{} {route} failed: {failure}; sent the error frame",
                        connection.id
                    ),
                );
                let frame = serde_json::json!({
                    "message": "Internal server error",
                    "connectionId": connection.id,
                    "requestId": context.request_id,
                });
                let _ = connection.send(Message::Text(frame.to_string().into()));
            }
        });
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

/// Completes once the emulator is stopping.
async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

/// Sends the gateway's close frame (or answers the client's) and ends the connection politely.
async fn finish_close(socket: &mut WebSocket, closed: &Closed, oversized: bool) {
    if !closed.by_gateway {
        // Flushes the close frame tungstenite queued in reply to the client's.
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE_GRACE, socket.close(None)).await;
        return;
    }
    let frame = CloseFrame {
        code: CloseCode::from(closed.code),
        reason: closed.reason.clone().into(),
    };
    let _ = tokio::time::timeout(
        CLOSE_HANDSHAKE_GRACE,
        socket.send(Message::Close(Some(frame))),
    )
    .await;
    if oversized {
        // The rest of the oversized frame is still unread: read it off the socket so closing
        // sends a FIN rather than a reset that could destroy the close frame in flight.
        let stream = socket.get_mut();
        let mut scratch = vec![0u8; 64 * 1024];
        let give_up = Instant::now() + CLOSE_HANDSHAKE_GRACE;
        while Instant::now() < give_up {
            match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut scratch)).await
            {
                Ok(Ok(read)) if read > 0 => continue,
                _ => break,
            }
        }
        return;
    }
    // Wait for the client's close frame, as the closing handshake asks.
    let _ = tokio::time::timeout(CLOSE_HANDSHAKE_GRACE, async {
        while let Some(Ok(message)) = socket.next().await {
            if message.is_close() {
                break;
            }
        }
    })
    .await;
}

/// The handshake decision in a `$connect` response: its `statusCode` (200 when the function
/// returned no status) and the `Sec-WebSocket-Protocol` header it chose.
fn connect_decision(body: &[u8]) -> (StatusCode, Option<String>) {
    let Ok(response) = serde_json::from_slice::<Value>(body) else {
        return (StatusCode::OK, None);
    };
    let status = match response.get("statusCode") {
        Some(code) => code
            .as_u64()
            .or_else(|| code.as_str().and_then(|text| text.parse().ok()))
            .and_then(|code| u16::try_from(code).ok())
            .and_then(|code| StatusCode::from_u16(code).ok())
            .unwrap_or(StatusCode::BAD_GATEWAY),
        None => StatusCode::OK,
    };
    let protocol = ["headers", "multiValueHeaders"].iter().find_map(|field| {
        let headers = response.get(*field)?.as_object()?;
        let (_, value) = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-protocol"))?;
        match value {
            Value::String(text) => Some(text.clone()),
            Value::Array(values) => values.first()?.as_str().map(str::to_string),
            _ => None,
        }
    });
    (status, protocol)
}

fn status_text(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|value| value.get("statusCode").and_then(Value::as_u64))
        .map_or_else(|| "ok".to_string(), |code| code.to_string())
}

fn is_websocket_upgrade(request: &Request<Incoming>) -> bool {
    let has = |name: header::HeaderName, token: &str| {
        request.headers().get_all(name).iter().any(|value| {
            value.to_str().is_ok_and(|text| {
                text.split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    request.method() == http::Method::GET
        && has(header::UPGRADE, "websocket")
        && has(header::CONNECTION, "upgrade")
}

/// `a=1&b=x%20y` → pairs, percent-decoded, `+` as space.
pub(super) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&key.replace('+', " ")),
                percent_decode(&value.replace('+', " ")),
            )
        })
        .collect()
}

pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[index], hex(index + 1), hex(index + 2)) {
            (b'%', Some(high), Some(low)) => {
                decoded.push((high * 16 + low) as u8);
                index += 3;
            }
            (byte, _, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn local_port(host: &str) -> String {
    host.rsplit_once(':')
        .map_or_else(|| "80".to_string(), |(_, port)| port.to_string())
}

fn epoch_ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_decision_reads_status_and_protocol() {
        let body = br#"{"statusCode":200,"headers":{"Sec-WebSocket-Protocol":"chat"}}"#;
        assert_eq!(
            connect_decision(body),
            (StatusCode::OK, Some("chat".into()))
        );
        assert_eq!(
            connect_decision(br#"{"statusCode":403}"#).0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(connect_decision(b"null").0, StatusCode::OK);
        assert_eq!(
            connect_decision(br#"{"statusCode":"401"}"#).0,
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn query_strings_are_decoded() {
        assert_eq!(
            parse_query("reject=1&name=a%20b+c&flag"),
            vec![
                ("reject".to_string(), "1".to_string()),
                ("name".to_string(), "a b c".to_string()),
                ("flag".to_string(), String::new()),
            ]
        );
        assert_eq!(percent_decode("abc%3D"), "abc=");
    }
}
