//! The baseline of the runtime benchmark: a bare `lambda_runtime` handler doing what the
//! `examples/echo` `echo` route does — post the message's `data` back to the caller through the
//! API Gateway management endpoint — with nothing but `lambda_runtime`, serde_json and a plain
//! hyper client. It reads the endpoint from `SOCKET_MANAGEMENT_ENDPOINT` (an `http://` URL).

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

// The same single-threaded runtime as the examples/echo binary: one invocation at a time needs no
// second thread, and both sides of the comparison then schedule alike.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let endpoint = std::env::var("SOCKET_MANAGEMENT_ENDPOINT").map_err(|_| {
        "SOCKET_MANAGEMENT_ENDPOINT must name the management endpoint (http://host:port/stage)"
    })?;
    let endpoint = endpoint.trim_end_matches('/').to_string();
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let (client, endpoint) = (&client, endpoint.as_str());
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
            echo(client, endpoint, event.payload).await
        },
    ))
    .await
}

async fn echo(
    client: &Client<HttpConnector, Full<Bytes>>,
    endpoint: &str,
    request: ApiGatewayWebsocketProxyRequest,
) -> Result<ApiGatewayProxyResponse, Error> {
    let connection_id = request
        .request_context
        .connection_id
        .ok_or("event has no connectionId")?;
    let message: Value = serde_json::from_str(request.body.as_deref().unwrap_or("null"))?;
    let data = serde_json::to_vec(&message["data"])?;
    let post = http::Request::post(format!(
        "{endpoint}/@connections/{}",
        percent_encode(&connection_id)
    ))
    .header("content-type", "application/json")
    .body(Full::new(Bytes::from(data)))?;
    let status = client.request(post).await?.status();
    if !status.is_success() {
        return Err(format!("management endpoint answered {status}").into());
    }
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = 200;
    Ok(response)
}

/// Connection ids end in `=`: percent-encode all but RFC 3986 unreserved characters.
fn percent_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len() + 6);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}
