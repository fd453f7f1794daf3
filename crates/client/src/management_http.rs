//! The production management API client: SigV4-signed (see `sigv4`) requests over the shared
//! HTTPS client (see `https`).
//!
//! Credentials and region come from the caller's [`Signing`], settled once
//! (in a function: the runtime's configuration, read at start-up from Lambda's
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`).

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Uri};
use socket_protocol::percent::encode_segment;

use crate::credentials::Signing;
use crate::https;
use crate::management::{ConnectionInfo, Frame, SendError};
use crate::sigv4;

/// The signing name of the API Gateway management API.
const SERVICE: &str = "execute-api";

pub(crate) async fn post(
    signing: &Signing,
    endpoint: &str,
    connection_id: &str,
    frame: Frame,
) -> Result<(), SendError> {
    let (content_type, body) = match frame {
        Frame::Text(text) => ("text/plain; charset=utf-8", Bytes::from(text)),
        Frame::Binary(bytes) => ("application/octet-stream", Bytes::from(bytes)),
    };
    call(
        signing,
        Method::POST,
        endpoint,
        connection_id,
        body,
        Some(content_type),
    )
    .await
    .map(|_| ())
}

pub(crate) async fn delete(
    signing: &Signing,
    endpoint: &str,
    connection_id: &str,
) -> Result<(), SendError> {
    call(
        signing,
        Method::DELETE,
        endpoint,
        connection_id,
        Bytes::new(),
        None,
    )
    .await
    .map(|_| ())
}

pub(crate) async fn get(
    signing: &Signing,
    endpoint: &str,
    connection_id: &str,
) -> Result<ConnectionInfo, SendError> {
    let url = connection_url(endpoint, connection_id);
    let body = call(
        signing,
        Method::GET,
        endpoint,
        connection_id,
        Bytes::new(),
        None,
    )
    .await?;
    serde_json::from_slice(&body).map_err(|error| SendError::Transport {
        url,
        message: format!("unexpected GET @connections answer: {error}"),
    })
}

/// `{endpoint}/@connections/{id}`, the id percent-encoded (ids end in `=`).
pub(crate) fn connection_url(endpoint: &str, connection_id: &str) -> String {
    format!(
        "{}/@connections/{}",
        endpoint.trim_end_matches('/'),
        encode_segment(connection_id)
    )
}

async fn call(
    signing: &Signing,
    method: Method,
    endpoint: &str,
    connection_id: &str,
    body: Bytes,
    content_type: Option<&str>,
) -> Result<Bytes, SendError> {
    let url = connection_url(endpoint, connection_id);
    let method_name = static_method_name(&method);
    let request = signed_request(signing, method, &url, body, content_type)?;
    let transport_error = |message: String| SendError::Transport {
        url: url.clone(),
        message,
    };
    let (status, body) = https::exchange(request).await.map_err(transport_error)?;
    match status {
        200..=299 => Ok(body),
        410 => Err(SendError::Gone {
            connection_id: connection_id.to_string(),
        }),
        _ => Err(SendError::Api {
            method: method_name,
            url,
            status,
            message: String::from_utf8_lossy(&body).trim().to_string(),
        }),
    }
}

fn signed_request(
    signing: &Signing,
    method: Method,
    url: &str,
    body: Bytes,
    content_type: Option<&str>,
) -> Result<Request<Full<Bytes>>, SendError> {
    let endpoint_error = |reason: String| SendError::Endpoint {
        endpoint: url.to_string(),
        reason,
    };
    let uri: Uri = url
        .parse()
        .map_err(|error| endpoint_error(format!("not a URL ({error})")))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => {
            return Err(endpoint_error(
                "the scheme must be http:// or https://".into(),
            ))
        }
    }
    let host = uri
        .authority()
        .map(|authority| authority.as_str().to_string())
        .ok_or_else(|| endpoint_error("no host".into()))?;
    let credentials = signing.credentials().ok_or_else(|| {
        SendError::Credentials(
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set".into(),
        )
    })?;
    let epoch_seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    let signed = sigv4::sign(
        &sigv4::Request {
            method: method.as_str(),
            host: &host,
            path: uri.path(),
            content_type,
            body: &body,
        },
        &sigv4::Credentials {
            access_key_id: &credentials.access_key_id,
            secret_access_key: &credentials.secret_access_key,
            session_token: credentials.session_token.as_deref(),
        },
        region(signing.region(), &host),
        SERVICE,
        epoch_seconds,
    );

    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", &host);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder = builder
        .header("x-amz-date", signed.amz_date)
        .header("authorization", signed.authorization);
    if let Some(token) = signed.security_token {
        builder = builder.header("x-amz-security-token", token);
    }
    builder
        .body(Full::new(body))
        .map_err(|error| endpoint_error(error.to_string()))
}

/// The configured region, else the region in an `{api}.execute-api.{region}.amazonaws.com` host,
/// else `us-east-1`.
fn region<'a>(configured: Option<&'a str>, host: &'a str) -> &'a str {
    configured
        .or_else(|| {
            let mut labels = host.split('.');
            labels.next()?;
            (labels.next()? == "execute-api").then(|| labels.next())?
        })
        .unwrap_or("us-east-1")
}

fn static_method_name(method: &Method) -> &'static str {
    match *method {
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        _ => "GET",
    }
}

/// An error and its causes on one line (hyper's top-level messages alone say little).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_ids_are_percent_encoded() {
        assert_eq!(
            connection_url("http://127.0.0.1:3111/dev/", "L0SM9cOFvHcCIhw="),
            "http://127.0.0.1:3111/dev/@connections/L0SM9cOFvHcCIhw%3D"
        );
    }

    #[test]
    fn region_falls_back_to_the_execute_api_host() {
        let host = "abc.execute-api.eu-west-3.amazonaws.com";
        assert_eq!(region(Some("ap-south-1"), host), "ap-south-1");
        assert_eq!(region(None, host), "eu-west-3");
        assert_eq!(region(None, "ws.example.com"), "us-east-1");
    }
}
