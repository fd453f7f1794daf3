//! A loopback stand-in for the management API, for the broadcast part of the suite: connection
//! ids starting `ok-` answer 200, `gone-` 410, `busy-` 429 on the first post and 200 after.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The posts the stub received, by connection id (decoded), in order.
#[derive(Clone, Default)]
pub(crate) struct Posts(Arc<Mutex<HashMap<String, Vec<String>>>>);

impl Posts {
    /// The bodies posted to `connection_id`.
    pub(crate) fn to(&self, connection_id: &str) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .get(connection_id)
            .cloned()
            .unwrap_or_default()
    }

    fn record(&self, connection_id: &str, body: String) -> usize {
        let mut posts = self.0.lock().unwrap();
        let list = posts.entry(connection_id.to_string()).or_default();
        list.push(body);
        list.len()
    }
}

/// Serves on 127.0.0.1; returns the endpoint (`http://127.0.0.1:{port}/{stage}`) and the log.
pub(crate) async fn start(stage: &str) -> (String, Posts) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let endpoint = format!(
        "http://{}/{stage}",
        listener.local_addr().expect("an address")
    );
    let prefix = format!("/{stage}/@connections/");
    let posts = Posts::default();
    let log = posts.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log.clone();
            let prefix = prefix.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: hyper::Request<Incoming>| {
                    let log = log.clone();
                    let prefix = prefix.clone();
                    async move {
                        let id = request
                            .uri()
                            .path()
                            .strip_prefix(&prefix)
                            .and_then(socket_protocol::percent::decode)
                            .unwrap_or_default();
                        let signed = request.headers().contains_key("authorization");
                        let body = request
                            .into_body()
                            .collect()
                            .await
                            .map(|body| body.to_bytes())
                            .unwrap_or_default();
                        let nth = log.record(&id, String::from_utf8_lossy(&body).into_owned());
                        let status = match () {
                            _ if !signed => 403,
                            _ if id.starts_with("ok-") => 200,
                            _ if id.starts_with("gone-") => 410,
                            _ if id.starts_with("busy-") && nth == 1 => 429,
                            _ if id.starts_with("busy-") => 200,
                            _ => 404,
                        };
                        Ok::<_, Infallible>(
                            hyper::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::new()))
                                .expect("a response"),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (endpoint, posts)
}
