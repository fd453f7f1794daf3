//! The one HTTPS client the management API and DynamoDB calls share: rustls (ring) over
//! HTTP/1, built on the first call so handlers that never call out pay nothing at cold start.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A call that takes longer than this is reported as a transport error rather than letting it
/// eat the function's whole timeout.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Sends `request` and reads the whole answer: its status and body, or why there is none
/// (a transport failure, or no answer within [`REQUEST_TIMEOUT`]).
pub(crate) async fn exchange(request: Request<Full<Bytes>>) -> Result<(u16, Bytes), String> {
    let exchange = async {
        let response = client()?
            .request(request)
            .await
            .map_err(|error| error_chain(&error))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|error| error_chain(&error))?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()))?
}

fn client() -> Result<&'static HttpsClient, String> {
    static CLIENT: OnceLock<HttpsClient> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false); // TLS is layered on top by the HTTPS connector
                             // Without TCP_NODELAY a request reusing a pooled connection can wait ~40 ms for a delayed ACK.
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(Duration::from_secs(5)));
    // An explicit provider: works whichever rustls crypto features the rest of the build enables.
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .map_err(|error| format!("TLS setup failed: {error}"))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    // A short idle timeout: Lambda freezes the process between invocations, and a pooled
    // connection the server closed meanwhile would fail the next send.
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(20))
        .build(https);
    Ok(CLIENT.get_or_init(|| client))
}

/// An error with its causes, `outer: inner: …` (hyper's own message alone hides the cause).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
