//! The baseline of the runtime benchmark: a bare `lambda_runtime` handler doing what the
//! `examples/echo` `echo` route does — post the message's `data` back to the caller through the
//! API Gateway management endpoint — with nothing but `lambda_runtime` (its default tracing
//! subscriber installed, as `cargo lambda new` generates), serde_json, a plain hyper client and the
//! `aws-sigv4` crate, because API Gateway refuses unsigned management calls. It reads the endpoint
//! from `SOCKET_MANAGEMENT_ENDPOINT` (an `http://` URL) and the credentials from the environment,
//! as Lambda sets them. `BARE_ECHO_UNSIGNED=1` skips signing (a floor no deployed handler reaches).

use std::time::SystemTime;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

struct Echo {
    client: Client<HttpConnector, Full<Bytes>>,
    endpoint: String,
    /// `None` when `BARE_ECHO_UNSIGNED=1`.
    identity: Option<aws_smithy_runtime_api::client::identity::Identity>,
    region: String,
}

// The same single-threaded runtime as the examples/echo binary: one invocation at a time needs no
// second thread, and both sides of the comparison then schedule alike.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let endpoint = std::env::var("SOCKET_MANAGEMENT_ENDPOINT").map_err(|_| {
        "SOCKET_MANAGEMENT_ENDPOINT must name the management endpoint (http://host:port/stage)"
    })?;
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    let unsigned = env("BARE_ECHO_UNSIGNED") == "1";
    let echo = Echo {
        client: Client::builder(TokioExecutor::new()).build_http(),
        endpoint: endpoint.trim_end_matches('/').to_string(),
        identity: (!unsigned).then(|| {
            aws_credential_types::Credentials::new(
                env("AWS_ACCESS_KEY_ID"),
                env("AWS_SECRET_ACCESS_KEY"),
                Some(env("AWS_SESSION_TOKEN")).filter(|token| !token.is_empty()),
                None,
                "environment",
            )
            .into()
        }),
        region: env("AWS_REGION"),
    };
    let echo = &echo;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
            echo.handle(event.payload).await
        },
    ))
    .await
}

impl Echo {
    async fn handle(
        &self,
        request: ApiGatewayWebsocketProxyRequest,
    ) -> Result<ApiGatewayProxyResponse, Error> {
        let connection_id = request
            .request_context
            .connection_id
            .ok_or("event has no connectionId")?;
        let message: Value = serde_json::from_str(request.body.as_deref().unwrap_or("null"))?;
        let data = Bytes::from(serde_json::to_vec(&message["data"])?);
        let url = format!(
            "{}/@connections/{}",
            self.endpoint,
            percent_encode(&connection_id)
        );
        let mut post = http::Request::post(&url)
            .header("content-type", "application/json")
            .body(Full::new(data.clone()))?;
        if let Some(identity) = &self.identity {
            let params = v4::SigningParams::builder()
                .identity(identity)
                .region(&self.region)
                .name("execute-api")
                .time(SystemTime::now())
                .settings(SigningSettings::default())
                .build()?
                .into();
            let host = post
                .uri()
                .authority()
                .map(|a| a.to_string())
                .unwrap_or_default();
            let headers = [
                ("host", host.as_str()),
                ("content-type", "application/json"),
            ];
            let signable = SignableRequest::new(
                "POST",
                &url,
                headers.into_iter(),
                SignableBody::Bytes(&data),
            )?;
            let (instructions, _) = sign(signable, &params)?.into_parts();
            instructions.apply_to_request_http1x(&mut post);
        }
        let status = self.client.request(post).await?.status();
        if !status.is_success() {
            return Err(format!("management endpoint answered {status}").into());
        }
        let mut response = ApiGatewayProxyResponse::default();
        response.status_code = 200;
        Ok(response)
    }
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
