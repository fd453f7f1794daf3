//! What a handler answers: a status, optional headers (e.g. `Sec-WebSocket-Protocol` on connect) and body.

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue};

/// A handler's answer to API Gateway.
///
/// On `connect`, a non-2xx status rejects the handshake and headers go to the client's handshake
/// response (`Sec-WebSocket-Protocol` is the usual one). On other routes the status is recorded by
/// API Gateway; a body reaches the client only when the route has a route response configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

impl Response {
    /// A response with `status` and nothing else.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    /// 200 OK.
    pub fn ok() -> Self {
        Self::new(200)
    }

    /// Adds a header, e.g. `.with_header("Sec-WebSocket-Protocol", "chat")`.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the status is 2xx (for `connect`: whether the connection is accepted).
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The value of header `name` (case-insensitive), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// All headers, in the order they were added.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body, if any.
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }

    pub(crate) fn into_proxy_response(self) -> ApiGatewayProxyResponse {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            match (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                (Ok(name), Ok(value)) => {
                    headers.append(name, value);
                }
                _ => {
                    tracing::warn!(header = %name, "dropping a response header that is not valid HTTP")
                }
            }
        }
        let mut response = ApiGatewayProxyResponse::default();
        response.status_code = i64::from(self.status);
        response.headers = headers;
        response.body = self.body.map(Body::Text);
        response.is_base64_encoded = false;
        response
    }

    pub(crate) fn from_proxy_response(response: &ApiGatewayProxyResponse) -> Self {
        let status = u16::try_from(response.status_code).unwrap_or(500);
        let headers = response
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response.body.as_ref().map(|body| match body {
            Body::Text(text) => text.clone(),
            other => String::from_utf8_lossy(other.as_ref()).into_owned(),
        });
        Self {
            status,
            headers,
            body,
        }
    }
}

/// Types a handler may return inside `Ok(..)`: `()` (200), a `u16` status, or a [`Response`].
pub trait IntoResponse {
    /// The response this value stands for.
    fn into_response(self) -> Response;
}

impl IntoResponse for () {
    fn into_response(self) -> Response {
        Response::ok()
    }
}

impl IntoResponse for u16 {
    fn into_response(self) -> Response {
        Response::new(self)
    }
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}
