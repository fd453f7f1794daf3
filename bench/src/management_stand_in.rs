//! The API Gateway management endpoint the echo handlers post to (`POST /<stage>/@connections/{id}`),
//! on loopback: it checks that every post carries exactly the data its connection's event asked
//! to echo.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Default)]
struct Expected {
    /// Connection id → the data its post must carry.
    echoes: Mutex<HashMap<String, Value>>,
    /// Posts that carried exactly the expected data.
    matched: AtomicUsize,
}

/// A running management endpoint; dropping it stops it.
pub struct ManagementStandIn {
    address: SocketAddr,
    stage: String,
    expected: Arc<Expected>,
    accept: JoinHandle<()>,
}

impl Drop for ManagementStandIn {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl ManagementStandIn {
    /// Binds 127.0.0.1 on a free port.
    pub async fn start(stage: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let expected = Arc::new(Expected::default());
        let prefix = format!("/{stage}/@connections/");
        let served = Arc::clone(&expected);
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let (expected, prefix) = (Arc::clone(&served), prefix.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let (expected, prefix) = (Arc::clone(&expected), prefix.clone());
                        async move { Ok::<_, Infallible>(handle(&expected, &prefix, request).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            address,
            stage: stage.to_string(),
            expected,
            accept,
        })
    }

    /// The value of `SOCKET_MANAGEMENT_ENDPOINT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}/{}", self.address, self.stage)
    }

    /// The next post to `connection_id` must carry `data`.
    pub fn expect(&self, connection_id: &str, data: Value) {
        let mut echoes = self.expected.echoes.lock().expect("expected lock");
        echoes.insert(connection_id.to_string(), data);
    }

    /// How many posts carried exactly their expected data.
    pub fn matched(&self) -> usize {
        self.expected.matched.load(Ordering::Relaxed)
    }
}

async fn handle(
    expected: &Expected,
    prefix: &str,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let method = request.method().clone();
    let Some(connection_id) = request
        .uri()
        .path()
        .strip_prefix(prefix)
        .and_then(socket_protocol::percent::decode)
    else {
        return reply(StatusCode::NOT_FOUND, Bytes::new());
    };
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return reply(StatusCode::BAD_REQUEST, Bytes::new()),
    };
    match method {
        Method::POST => {
            let wanted = expected.echoes.lock().expect("expected lock").remove(&connection_id);
            let posted = serde_json::from_slice::<Value>(&body).ok();
            if wanted.is_some() && posted == wanted {
                expected.matched.fetch_add(1, Ordering::Relaxed);
            }
            reply(StatusCode::OK, Bytes::new())
        }
        Method::GET => reply(
            StatusCode::OK,
            Bytes::from_static(br#"{"connectedAt":"2026-11-22T03:00:00Z","identity":{"sourceIp":"127.0.0.1"},"lastActiveAt":"2026-11-22T03:00:00Z"}"#),
        ),
        Method::DELETE => reply(StatusCode::NO_CONTENT, Bytes::new()),
        _ => reply(StatusCode::METHOD_NOT_ALLOWED, Bytes::new()),
    }
}

fn reply(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
}
