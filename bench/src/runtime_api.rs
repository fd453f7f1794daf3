//! A Lambda Runtime API on loopback, as Lambda serves it to a custom runtime, plus the API Gateway
//! management endpoint (`POST /<stage>/@connections/{id}`) the echo handlers post to.
//!
//! Each function instance gets its own server, so a `/next` left waiting by a killed process can
//! never take an invocation meant for the next one.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const RUNTIME_PREFIX: &str = "/2018-06-01/runtime/";

/// One invocation to hand out on `/next`.
pub struct Invocation {
    pub request_id: String,
    pub event: Bytes,
    /// The connection the handler must post to, and the data it must post.
    pub connection_id: String,
    pub expected_echo: Value,
}

/// What the function instance did, in the order it happened.
#[derive(Debug)]
pub enum ApiEvent {
    /// The runtime asked for the next invocation.
    NextRequested(Instant),
    /// The runtime posted a response; `took` runs from handing the event out to receiving it.
    Completed { took: Duration, at: Instant },
    /// The runtime posted an invocation error.
    Failed { body: String },
    /// The runtime reported an initialisation error.
    InitError(String),
    /// The handler posted to a connection; `matches` tells whether it posted the expected data.
    Posted { matches: bool },
}

struct State {
    stage: String,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    in_flight: Mutex<HashMap<String, Instant>>,
    expected: Mutex<HashMap<String, Value>>,
    events: mpsc::UnboundedSender<ApiEvent>,
}

/// A running Runtime API + management endpoint. Dropping it stops accepting and ends pending `/next`.
pub struct RuntimeApi {
    pub addr: SocketAddr,
    pub stage: String,
    invocations: mpsc::UnboundedSender<Invocation>,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl RuntimeApi {
    /// Binds 127.0.0.1 on a free port; returns the server and the stream of what the instance does.
    pub async fn start(stage: &str) -> std::io::Result<(Self, mpsc::UnboundedReceiver<ApiEvent>)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (invocations, queue) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            stage: stage.to_string(),
            queue: tokio::sync::Mutex::new(queue),
            in_flight: Mutex::new(HashMap::new()),
            expected: Mutex::new(HashMap::new()),
            events,
        });
        let accept_state = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&accept_state);
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(Arc::clone(&state), request));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        let api = RuntimeApi {
            addr,
            stage: stage.to_string(),
            invocations,
            state,
            accept,
        };
        Ok((api, events_rx))
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn runtime_api_env(&self) -> String {
        self.addr.to_string()
    }

    /// The value of `SOCKET_MANAGEMENT_ENDPOINT`.
    pub fn management_endpoint(&self) -> String {
        format!("http://{}/{}", self.addr, self.stage)
    }

    /// Queues an invocation; the next `/next` receives it.
    pub fn push(&self, invocation: Invocation) {
        self.state.expected.lock().unwrap().insert(
            invocation.connection_id.clone(),
            invocation.expected_echo.clone(),
        );
        let _ = self.invocations.send(invocation);
    }
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Reply {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Reply, Infallible> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(reply(StatusCode::BAD_REQUEST, "unreadable body")),
    };
    if let Some(route) = path.strip_prefix(RUNTIME_PREFIX) {
        return Ok(runtime_route(&state, &method, route, body).await);
    }
    let connections_prefix = format!("/{}/@connections/", state.stage);
    if let Some(connection_id) = path.strip_prefix(&connections_prefix) {
        let connection_id = percent_decode(connection_id);
        return Ok(management_route(&state, &method, &connection_id, &body));
    }
    Ok(reply(
        StatusCode::NOT_FOUND,
        format!("no route for {method} {path}"),
    ))
}

async fn runtime_route(state: &State, method: &Method, route: &str, body: Bytes) -> Reply {
    let segments: Vec<&str> = route.split('/').collect();
    match (method, segments.as_slice()) {
        (&Method::GET, ["invocation", "next"]) => {
            let _ = state.events.send(ApiEvent::NextRequested(Instant::now()));
            let next = state.queue.lock().await.recv().await;
            match next {
                Some(invocation) => hand_out(state, invocation),
                // The instance is being shut down.
                None => reply(StatusCode::GONE, "no more invocations"),
            }
        }
        (&Method::POST, ["invocation", request_id, "response"]) => {
            let started = state.in_flight.lock().unwrap().remove(*request_id);
            let at = Instant::now();
            if let Some(started) = started {
                let _ = state.events.send(ApiEvent::Completed {
                    took: at - started,
                    at,
                });
            }
            reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        (&Method::POST, ["invocation", request_id, "error"]) => {
            state.in_flight.lock().unwrap().remove(*request_id);
            let body = String::from_utf8_lossy(&body).into_owned();
            let _ = state.events.send(ApiEvent::Failed { body });
            reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        (&Method::POST, ["init", "error"]) => {
            let _ = state.events.send(ApiEvent::InitError(
                String::from_utf8_lossy(&body).into_owned(),
            ));
            reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            format!("no runtime route {method} {route}"),
        ),
    }
}

fn hand_out(state: &State, invocation: Invocation) -> Reply {
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|now| now + Duration::from_secs(30))
        .unwrap_or_default()
        .as_millis();
    let request_id = invocation.request_id;
    let mut response = Response::new(Full::new(invocation.event));
    let headers = response.headers_mut();
    headers.insert("content-type", "application/json".parse().unwrap());
    headers.insert("lambda-runtime-aws-request-id", request_id.parse().unwrap());
    headers.insert(
        "lambda-runtime-deadline-ms",
        deadline.to_string().parse().unwrap(),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:bench"
            .parse()
            .unwrap(),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        "Root=1-6740f1c0-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=0"
            .parse()
            .unwrap(),
    );
    state
        .in_flight
        .lock()
        .unwrap()
        .insert(request_id, Instant::now());
    response
}

/// Connection ids end in `=`, which clients send percent-encoded in the path.
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn management_route(state: &State, method: &Method, connection_id: &str, body: &[u8]) -> Reply {
    match *method {
        Method::POST => {
            let expected = state.expected.lock().unwrap().remove(connection_id);
            let posted = serde_json::from_slice::<Value>(body).ok();
            let matches = expected.is_some() && posted == expected;
            let _ = state.events.send(ApiEvent::Posted { matches });
            reply(StatusCode::OK, Bytes::new())
        }
        Method::GET => reply(
            StatusCode::OK,
            r#"{"connectedAt":"2026-11-22T03:00:00Z","identity":{"sourceIp":"127.0.0.1"},"lastActiveAt":"2026-11-22T03:00:00Z"}"#,
        ),
        Method::DELETE => reply(StatusCode::NO_CONTENT, Bytes::new()),
        _ => reply(StatusCode::METHOD_NOT_ALLOWED, Bytes::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn decodes_percent_encoded_connection_ids() {
        assert_eq!(percent_decode("L0SM9cOFvHcCIhw%3D"), "L0SM9cOFvHcCIhw=");
        assert_eq!(percent_decode("plain="), "plain=");
        assert_eq!(percent_decode("odd%zz%"), "odd%zz%");
    }
}
