//! The API Gateway management API: `POST`, `GET` and `DELETE /{stage}/@connections/{id}`.
//!
//! Requests are answered as API Gateway answers them: 200 with an empty body for a send, the
//! connection's facts for a GET, 204 for a DELETE, 410 `GoneException` for an id that is not (or
//! no longer) connected, 413 for a body over the message quota. SigV4 headers are accepted and
//! not verified: the emulator needs no credentials.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use socket_protocol::events;
use tokio_tungstenite::tungstenite::Message;

use super::connections::Connection;
use super::gateway::Gateway;
use super::limits;
use super::responses::{empty, json};

/// Handles one request for `@connections/{raw_id}`.
pub async fn handle(
    gateway: &Gateway,
    request: Request<Incoming>,
    raw_id: &str,
) -> Response<Full<Bytes>> {
    // An unencoded `/` of an id makes another path, which API Gateway does not serve; an
    // encoded one (`%2F`, as the SDKs send it) is part of the id.
    if raw_id.is_empty() || raw_id.contains('/') {
        return forbidden();
    }
    let Some(id) = socket_protocol::percent::decode(raw_id) else {
        return forbidden();
    };
    match *request.method() {
        Method::POST => {
            let limit = gateway.limits().max_message_bytes;
            let body = match Limited::new(request.into_body(), limit).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => {
                    return error(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "PayloadTooLargeException",
                        &format!("Message exceeds the {limit}-byte limit"),
                    )
                }
            };
            let Some(connection) = gateway.registry.get(&id) else {
                return gone();
            };
            let message = match String::from_utf8(body.to_vec()) {
                Ok(text) => Message::Text(text.into()),
                Err(_) => Message::Binary(body),
            };
            match connection.deliver(message).await {
                Ok(()) => empty(StatusCode::OK),
                Err(_) => gone(),
            }
        }
        Method::GET => match gateway.registry.get(&id) {
            Some(connection) => json(StatusCode::OK, &describe(&connection)),
            None => gone(),
        },
        Method::DELETE => match gateway.registry.remove(&id) {
            Some(connection) => match connection.close(limits::CLOSE_NORMAL, "") {
                Ok(()) => empty(StatusCode::NO_CONTENT),
                Err(_) => gone(),
            },
            None => gone(),
        },
        _ => forbidden(),
    }
}

/// `GetConnection`'s answer.
fn describe(connection: &Connection) -> serde_json::Value {
    let mut identity = serde_json::json!({ "sourceIp": connection.context.source_ip });
    if !connection.context.user_agent.is_empty() {
        identity["userAgent"] = connection.context.user_agent.clone().into();
    }
    serde_json::json!({
        "connectedAt": iso8601(connection.connected_at),
        "identity": identity,
        "lastActiveAt": iso8601(connection.last_active()),
    })
}

/// `2026-11-22T02:44:30.123Z`, as the management API reports times.
pub fn iso8601(time: SystemTime) -> String {
    let elapsed = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    events::format_iso8601(elapsed.as_millis() as i64)
}

fn gone() -> Response<Full<Bytes>> {
    error(StatusCode::GONE, "GoneException", "The connection is gone")
}

/// API Gateway's answer to a path or method it does not serve.
pub fn forbidden() -> Response<Full<Bytes>> {
    error(StatusCode::FORBIDDEN, "ForbiddenException", "Forbidden")
}

fn error(status: StatusCode, error_type: &'static str, message: &str) -> Response<Full<Bytes>> {
    let mut response = json(status, &serde_json::json!({ "message": message }));
    response.headers_mut().insert(
        "x-amzn-errortype",
        header::HeaderValue::from_static(error_type),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn iso8601_renders_utc_with_milliseconds() {
        let time = UNIX_EPOCH + Duration::from_millis(1_707_503_008_941);
        assert_eq!(iso8601(time), "2024-02-09T18:23:28.941Z");
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
