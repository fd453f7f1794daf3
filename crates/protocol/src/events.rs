//! Builders for the API Gateway WebSocket events a Lambda function receives.
//!
//! These produce the events exactly as API Gateway sends them for `CONNECT`, `MESSAGE` and
//! `DISCONNECT`. The in-process test toolkit (`socket_runtime::testing`) and the local emulator both build
//! their events here, so there is one definition of what the function sees.
//!
//! ```
//! use socket_protocol::events::{self, EventContext, MessageBody};
//!
//! let ctx = EventContext::new("abc123=");
//! let connect = events::connect(&ctx, &[("Host".into(), "127.0.0.1".into())], &[("token".into(), "t".into())]);
//! let message = events::message(&ctx, "$default", &MessageBody::Text(r#"{"route":"echo","data":1}"#.into()), "m1");
//! let json = events::to_json(&message); // the JSON document sent to the function
//! assert_eq!(json["requestContext"]["eventType"], "MESSAGE");
//! # let _ = connect;
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lambda_events::apigw::{
    ApiGatewayWebsocketProxyRequest, ApiGatewayWebsocketProxyRequestContext,
};
use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine;
use serde_json::{Map, Value};

use crate::utc::Utc;

pub use crate::route_selection::{select_route, DEFAULT_ROUTE_SELECTION};

/// The per-connection and per-request facts every event carries in its `requestContext`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventContext {
    /// `requestContext.connectionId`
    pub connection_id: String,
    /// `requestContext.apiId`
    pub api_id: String,
    /// `requestContext.stage`
    pub stage: String,
    /// `requestContext.domainName` (the management endpoint is `https://{domain_name}/{stage}`)
    pub domain_name: String,
    /// `requestContext.requestId`
    pub request_id: String,
    /// `requestContext.extendedRequestId`
    pub extended_request_id: String,
    /// `requestContext.connectedAt`, milliseconds since the Unix epoch
    pub connected_at_ms: i64,
    /// `requestContext.requestTimeEpoch`, milliseconds since the Unix epoch (also rendered as `requestTime`)
    pub request_time_ms: i64,
    /// `requestContext.identity.sourceIp`
    pub source_ip: String,
    /// `requestContext.identity.userAgent` (omitted when empty)
    pub user_agent: String,
    /// `requestContext.authorizer`: the `$connect` authorizer's context and `principalId`,
    /// carried by every event of a connection it allowed.
    pub authorizer: Option<Map<String, Value>>,
}

impl EventContext {
    /// A context for `connection_id` with local defaults: api id `local`, stage `dev`, domain
    /// `localhost`, source ip `127.0.0.1`, fresh request ids, and the current time.
    pub fn new(connection_id: impl Into<String>) -> Self {
        let now = now_ms();
        let request_id = unique_id();
        Self {
            connection_id: connection_id.into(),
            api_id: "local".to_string(),
            stage: "dev".to_string(),
            domain_name: "localhost".to_string(),
            extended_request_id: request_id.clone(),
            request_id,
            connected_at_ms: now,
            request_time_ms: now,
            source_ip: "127.0.0.1".to_string(),
            user_agent: String::new(),
            authorizer: None,
        }
    }

    /// The same connection, for a new request: fresh request ids and the current time.
    pub fn next_request(&self) -> Self {
        let request_id = unique_id();
        Self {
            extended_request_id: request_id.clone(),
            request_id,
            request_time_ms: now_ms(),
            ..self.clone()
        }
    }
}

/// The payload of a WebSocket message frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageBody {
    /// A text frame: sent as `body` with `isBase64Encoded: false`.
    Text(String),
    /// A binary frame: sent base64-encoded with `isBase64Encoded: true`.
    Binary(Vec<u8>),
}

/// The `$connect` event: handshake headers and query string, `eventType: CONNECT`.
///
/// Repeated header names and query keys keep every value in `multiValueHeaders` /
/// `multiValueQueryStringParameters`; the single-valued maps keep the last one, as API Gateway does.
pub fn connect(
    ctx: &EventContext,
    headers: &[(String, String)],
    query: &[(String, String)],
) -> ApiGatewayWebsocketProxyRequest {
    let mut request = base(ctx, "$connect", "CONNECT");
    let mut header_map = HeaderMap::new();
    for (name, value) in headers {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) else {
            continue;
        };
        header_map.append(name, value);
    }
    // `headers` serializes the first value per name; put the last one first to match API Gateway.
    let mut single = HeaderMap::new();
    for name in header_map.keys() {
        if let Some(last) = header_map.get_all(name).iter().next_back() {
            single.insert(name.clone(), last.clone());
        }
    }
    request.headers = single;
    request.multi_value_headers = header_map;

    let mut multi: HashMap<String, Vec<String>> = HashMap::new();
    for (key, value) in query {
        multi.entry(key.clone()).or_default().push(value.clone());
    }
    let single: HashMap<String, String> = multi
        .iter()
        .filter_map(|(key, values)| Some((key.clone(), values.last()?.clone())))
        .collect();
    request.query_string_parameters = single.into();
    request.multi_value_query_string_parameters = multi.into();
    request
}

/// A message event: `route_key` is the matched route (`$default` or a custom route key),
/// `eventType: MESSAGE`, with the frame in `body`.
pub fn message(
    ctx: &EventContext,
    route_key: &str,
    body: &MessageBody,
    message_id: &str,
) -> ApiGatewayWebsocketProxyRequest {
    let mut request = base(ctx, route_key, "MESSAGE");
    request.request_context.message_id = Some(message_id.to_string());
    match body {
        MessageBody::Text(text) => {
            request.body = Some(text.clone());
            request.is_base64_encoded = false;
        }
        MessageBody::Binary(bytes) => {
            request.body = Some(base64::engine::general_purpose::STANDARD.encode(bytes));
            request.is_base64_encoded = true;
        }
    }
    request
}

/// The `$disconnect` event: `eventType: DISCONNECT` with the close code and reason.
pub fn disconnect(
    ctx: &EventContext,
    status_code: u16,
    reason: &str,
) -> ApiGatewayWebsocketProxyRequest {
    let mut request = base(ctx, "$disconnect", "DISCONNECT");
    request.request_context.disconnect_status_code = Some(i64::from(status_code));
    request.request_context.disconnect_reason = Some(reason.to_string());
    request
}

/// The JSON document API Gateway sends for `request`.
///
/// Serializing the struct directly is close but not exact: `queryStringParameters` would carry
/// arrays, and absent maps would appear as `{}`/`null`. This renders them as API Gateway does
/// (single string values; absent fields omitted).
pub fn to_json(request: &ApiGatewayWebsocketProxyRequest) -> Value {
    let mut json = serde_json::to_value(request).unwrap_or(Value::Null);
    let Some(object) = json.as_object_mut() else {
        return json;
    };
    if let Some(Value::Object(query)) = object.get_mut("queryStringParameters") {
        for value in query.values_mut() {
            if let Value::Array(values) = value {
                *value = values.pop().unwrap_or(Value::String(String::new()));
            }
        }
    }
    let is_connect = request.request_context.event_type.as_deref() == Some("CONNECT");
    object.retain(|key, value| {
        let empty = match value {
            Value::Null => true,
            Value::Object(map) => map.is_empty(),
            _ => false,
        };
        // CONNECT always carries its header maps; everything else drops empty/absent fields.
        let keep_empty = is_connect && (key == "headers" || key == "multiValueHeaders");
        !empty || keep_empty
    });
    if let Some(Value::Object(context)) = object.get_mut("requestContext") {
        context.retain(|_, value| !value.is_null());
        if let Some(Value::Object(identity)) = context.get_mut("identity") {
            identity.retain(|_, value| !value.is_null());
        }
    }
    json
}

fn base(ctx: &EventContext, route_key: &str, event_type: &str) -> ApiGatewayWebsocketProxyRequest {
    let mut context = ApiGatewayWebsocketProxyRequestContext::default();
    context.route_key = Some(route_key.to_string());
    context.event_type = Some(event_type.to_string());
    context.connection_id = Some(ctx.connection_id.clone());
    context.domain_name = Some(ctx.domain_name.clone());
    context.stage = Some(ctx.stage.clone());
    context.apiid = Some(ctx.api_id.clone());
    context.request_id = Some(ctx.request_id.clone());
    context.extended_request_id = Some(ctx.extended_request_id.clone());
    context.connected_at = ctx.connected_at_ms;
    context.request_time_epoch = ctx.request_time_ms;
    context.request_time = Some(format_request_time(ctx.request_time_ms));
    context.message_direction = Some("IN".to_string());
    context.identity.source_ip = Some(ctx.source_ip.clone());
    if !ctx.user_agent.is_empty() {
        context.identity.user_agent = Some(ctx.user_agent.clone());
    }
    if let Some(authorizer) = &ctx.authorizer {
        context.authorizer.fields = authorizer.clone().into_iter().collect();
    }
    let mut request = ApiGatewayWebsocketProxyRequest::default();
    request.request_context = context;
    request.is_base64_encoded = false;
    request
}

/// API Gateway's `requestTime` format: `09/Feb/2024:18:23:28 +0000`.
pub fn format_request_time(epoch_ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = Utc::from_epoch_seconds(epoch_ms.div_euclid(1000));
    format!(
        "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
        t.day,
        MONTHS[(t.month - 1) as usize],
        t.year,
        t.hour,
        t.minute,
        t.second
    )
}

/// ISO 8601 in UTC with milliseconds, as the management API reports times: `2024-02-09T18:23:28.941Z`.
pub fn format_iso8601(epoch_ms: i64) -> String {
    let t = Utc::from_epoch_seconds(epoch_ms.div_euclid(1000));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        epoch_ms.rem_euclid(1000)
    )
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or_default()
}

/// A process-unique id in the style of API Gateway's request ids.
fn unique_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as u64)
        .unwrap_or_default();
    let mixed =
        nanos ^ (u64::from(std::process::id()) << 32) ^ count.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    base64::engine::general_purpose::STANDARD.encode(mixed.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> EventContext {
        EventContext {
            connection_id: "AAAA1234=".into(),
            api_id: "abcd1234".into(),
            stage: "prod".into(),
            domain_name: "abcd1234.execute-api.us-east-1.amazonaws.com".into(),
            request_id: "REQ1=".into(),
            extended_request_id: "EXT1=".into(),
            connected_at_ms: 1_707_503_007_396,
            request_time_ms: 1_707_503_008_941,
            source_ip: "192.0.2.1".into(),
            user_agent: "test-agent".into(),
            authorizer: None,
        }
    }

    #[test]
    fn request_time_matches_api_gateway_format() {
        assert_eq!(
            format_request_time(1_707_503_008_941),
            "09/Feb/2024:18:23:28 +0000"
        );
        assert_eq!(format_request_time(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(
            format_iso8601(1_707_503_008_941),
            "2024-02-09T18:23:28.941Z"
        );
    }

    #[test]
    fn connect_event_round_trips_through_json() {
        let headers = vec![
            (
                "Host".to_string(),
                "abcd1234.execute-api.us-east-1.amazonaws.com".to_string(),
            ),
            ("X-Forwarded-For".to_string(), "192.0.2.1".to_string()),
            ("X-Forwarded-For".to_string(), "198.51.100.7".to_string()),
        ];
        let query = vec![
            ("token".to_string(), "a".to_string()),
            ("token".to_string(), "b".to_string()),
        ];
        let json = to_json(&connect(&ctx(), &headers, &query));
        assert_eq!(json["requestContext"]["eventType"], "CONNECT");
        assert_eq!(json["requestContext"]["routeKey"], "$connect");
        assert_eq!(json["requestContext"]["connectedAt"], 1_707_503_007_396_i64);
        assert_eq!(
            json["requestContext"]["requestTimeEpoch"],
            1_707_503_008_941_i64
        );
        assert_eq!(
            json["requestContext"]["requestTime"],
            "09/Feb/2024:18:23:28 +0000"
        );
        assert_eq!(json["requestContext"]["messageDirection"], "IN");
        assert_eq!(json["requestContext"]["identity"]["sourceIp"], "192.0.2.1");
        assert_eq!(
            json["requestContext"]["identity"]["userAgent"],
            "test-agent"
        );
        assert_eq!(json["queryStringParameters"]["token"], "b");
        assert_eq!(
            json["multiValueQueryStringParameters"]["token"],
            serde_json::json!(["a", "b"])
        );
        assert_eq!(json["headers"]["x-forwarded-for"], "198.51.100.7");
        assert_eq!(
            json["multiValueHeaders"]["x-forwarded-for"],
            serde_json::json!(["192.0.2.1", "198.51.100.7"])
        );
        assert_eq!(json["isBase64Encoded"], false);
        assert!(json.get("body").is_none());

        let parsed: ApiGatewayWebsocketProxyRequest = serde_json::from_value(json).unwrap();
        assert_eq!(parsed.query_string_parameters.first("token"), Some("b"));
        assert_eq!(
            parsed.request_context.connection_id.as_deref(),
            Some("AAAA1234=")
        );
    }

    #[test]
    fn message_events_carry_text_or_base64_body() {
        let text = to_json(&message(
            &ctx(),
            "$default",
            &MessageBody::Text("hi".into()),
            "m-1",
        ));
        assert_eq!(text["body"], "hi");
        assert_eq!(text["isBase64Encoded"], false);
        assert_eq!(text["requestContext"]["messageId"], "m-1");
        assert_eq!(text["requestContext"]["eventType"], "MESSAGE");
        assert!(text.get("queryStringParameters").is_none());

        let binary = to_json(&message(
            &ctx(),
            "$default",
            &MessageBody::Binary(vec![0, 159, 255]),
            "m-2",
        ));
        assert_eq!(binary["body"], "AJ//");
        assert_eq!(binary["isBase64Encoded"], true);
        let parsed: ApiGatewayWebsocketProxyRequest = serde_json::from_value(binary).unwrap();
        assert!(parsed.is_base64_encoded);
    }

    #[test]
    fn disconnect_event_carries_close_code_and_reason() {
        let json = to_json(&disconnect(&ctx(), 1001, "Going away"));
        assert_eq!(json["requestContext"]["eventType"], "DISCONNECT");
        assert_eq!(json["requestContext"]["routeKey"], "$disconnect");
        assert_eq!(json["requestContext"]["disconnectStatusCode"], 1001);
        assert_eq!(json["requestContext"]["disconnectReason"], "Going away");
        let parsed: ApiGatewayWebsocketProxyRequest = serde_json::from_value(json).unwrap();
        assert_eq!(parsed.request_context.disconnect_status_code, Some(1001));
    }

    #[test]
    fn fresh_contexts_get_distinct_request_ids() {
        let first = EventContext::new("c1");
        let second = first.next_request();
        assert_ne!(first.request_id, second.request_id);
        assert_eq!(first.connection_id, second.connection_id);
    }
}
