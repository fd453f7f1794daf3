//! The API Gateway WebSocket MESSAGE event fed to both binaries, shaped as API Gateway sends it.

use serde_json::{json, Value};

pub const STAGE: &str = "bench";
pub const DOMAIN: &str = "bench.execute-api.us-east-1.amazonaws.com";

/// The event for message `seq` on connection `connection_id`, whose body asks to echo `data`.
pub fn message_event(connection_id: &str, seq: usize, data: &Value) -> Value {
    let body = json!({ "route": "echo", "data": data }).to_string();
    json!({
        "requestContext": {
            "routeKey": "echo",
            "messageId": format!("msg{seq:012}="),
            "eventType": "MESSAGE",
            "extendedRequestId": format!("ext{seq:012}="),
            "requestTime": "22/Nov/2026:03:00:00 +0000",
            "messageDirection": "IN",
            "stage": STAGE,
            "connectedAt": 1_795_316_400_000u64,
            "requestTimeEpoch": 1_795_316_400_000u64 + seq as u64,
            "identity": { "sourceIp": "127.0.0.1" },
            "requestId": format!("req{seq:012}="),
            "domainName": DOMAIN,
            "connectionId": connection_id,
            "apiId": "bench"
        },
        "body": body,
        "isBase64Encoded": false
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;

    #[test]
    fn parses_as_the_lambda_event_type() {
        let event = message_event("abc=", 7, &json!({"n": 7}));
        let parsed: ApiGatewayWebsocketProxyRequest = serde_json::from_value(event).unwrap();
        assert_eq!(
            parsed.request_context.event_type.as_deref(),
            Some("MESSAGE")
        );
        assert_eq!(
            parsed.request_context.connection_id.as_deref(),
            Some("abc=")
        );
        assert_eq!(parsed.request_context.route_key.as_deref(), Some("echo"));
        let body: Value = serde_json::from_str(parsed.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["data"]["n"], 7);
    }
}
