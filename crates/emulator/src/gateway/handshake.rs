//! The WebSocket handshake: `$connect` decides it. 2xx completes it (passing back a
//! `Sec-WebSocket-Protocol` the handler chose); anything else refuses it with that status.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{header, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use socket_protocol::events::{self, EventContext};
use socket_protocol::percent;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use super::Gateway;
use crate::authorizer::{self, Verdict};
use crate::connections::Connection;
use crate::invocation::Outcome;
use crate::{ids, limits, output, responses};

impl Gateway {
    /// Runs `$connect`, then completes or refuses the handshake.
    pub(super) async fn handshake(
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
                crate::runtime_api::format_ms(started.elapsed())
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

pub(super) fn is_websocket_upgrade(request: &Request<Incoming>) -> bool {
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
            (percent::decode_form(key), percent::decode_form(value))
        })
        .collect()
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
    }
}
