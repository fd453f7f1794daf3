//! The Lambda Runtime API one worker process polls.
//!
//! Every worker process gets its own listener on a loopback port (its `AWS_LAMBDA_RUNTIME_API`),
//! so the emulator always knows which process holds which invocation: the function timeout kills
//! exactly the process that is late, and a crash fails exactly the invocation it was running.
//!
//! The protocol is Lambda's: `GET /2018-06-01/runtime/invocation/next` long-polls for the next
//! event and answers with the `Lambda-Runtime-*` headers; the function then posts
//! `/invocation/{id}/response` or `/invocation/{id}/error`; `/init/error` reports a failed start.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Notify};
use tokio::task::JoinHandle;

use super::busy_poll::BusyPoll;
use super::dispatch::Dispatch;
use super::ids;
use super::invocation::{Failure, FunctionConfig, Invocation, Invoked, Outcome};
use super::{output, responses};

const NEXT_PATH: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION_PREFIX: &str = "/2018-06-01/runtime/invocation/";
const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";

/// A worker waiting in `/next`: hand it an invocation through this sender. When the worker is
/// gone the send fails and gives the invocation back, so it goes to another worker.
pub type IdleWorker = oneshot::Sender<Invocation>;

/// The invocation a worker process is running.
struct Running {
    request_id: String,
    route: String,
    connection_id: String,
    started: Instant,
    reply: oneshot::Sender<Invoked>,
}

/// The Runtime API of one worker process.
pub struct RuntimeApi {
    /// `worker 2`: the prefix of everything this process prints.
    pub name: String,
    function: Arc<FunctionConfig>,
    dispatch: Arc<Dispatch>,
    /// Told of every request, so the emulator polls rather than sleeps while a worker is busy.
    busy: Option<Arc<BusyPoll>>,
    running: Mutex<Option<Running>>,
    /// Wakes the process's supervisor when it waits with no invocation running.
    handed_out: Notify,
    /// Set when the process is being replaced: it takes no new invocation.
    draining: AtomicBool,
    drain_started: Notify,
    /// When the process first asked for an invocation (it started up).
    first_poll: OnceLock<Instant>,
    first_polled: Notify,
    /// Since when the process has been waiting in `/next` with nothing to run (`None`: busy).
    idle_since: Mutex<Option<Instant>>,
}

impl RuntimeApi {
    pub fn new(
        name: String,
        function: Arc<FunctionConfig>,
        dispatch: Arc<Dispatch>,
        busy: Option<Arc<BusyPoll>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            name,
            function,
            dispatch,
            busy,
            running: Mutex::new(None),
            handed_out: Notify::new(),
            draining: AtomicBool::new(false),
            drain_started: Notify::new(),
            first_poll: OnceLock::new(),
            first_polled: Notify::new(),
            idle_since: Mutex::new(None),
        })
    }

    /// Listens on a fresh loopback port; returns the address for `AWS_LAMBDA_RUNTIME_API`.
    pub async fn serve(self: &Arc<Self>) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let api = Arc::clone(self);
        let server = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let api = Arc::clone(&api);
                connections.spawn(async move {
                    let service = service_fn(move |request| {
                        let api = Arc::clone(&api);
                        async move { Ok::<_, Infallible>(api.handle(request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
                // Reap finished connection tasks so the set does not grow.
                while connections.try_join_next().is_some() {}
            }
        });
        Ok((address, server))
    }

    /// The request id and deadline of the running invocation.
    pub fn running_deadline(&self) -> Option<(String, Instant)> {
        let running = self.running.lock().expect("running lock");
        running.as_ref().map(|running| {
            (
                running.request_id.clone(),
                running.started + self.function.timeout,
            )
        })
    }

    /// Completes when the next invocation is handed to the process.
    pub fn handed_out(&self) -> tokio::sync::futures::Notified<'_> {
        self.handed_out.notified()
    }

    /// Route and connection id of the running invocation, for log prefixes.
    pub fn running_label(&self) -> Option<String> {
        let running = self.running.lock().expect("running lock");
        running
            .as_ref()
            .filter(|running| !running.route.is_empty())
            .map(|running| format!("{} {}", running.route, running.connection_id))
    }

    pub fn is_running(&self, request_id: &str) -> bool {
        let running = self.running.lock().expect("running lock");
        running
            .as_ref()
            .is_some_and(|running| running.request_id == request_id)
    }

    pub fn is_idle(&self) -> bool {
        self.running.lock().expect("running lock").is_none()
    }

    pub fn has_polled(&self) -> bool {
        self.first_poll.get().is_some()
    }

    /// When the process first asked for an invocation; waits until it does.
    pub async fn first_poll(&self) -> Instant {
        loop {
            let polled = self.first_polled.notified();
            tokio::pin!(polled);
            polled.as_mut().enable();
            if let Some(at) = self.first_poll.get() {
                return *at;
            }
            polled.await;
        }
    }

    /// How long the process has been waiting for an invocation (`None`: it runs one, or has not
    /// asked yet).
    pub fn idle_for(&self) -> Option<Duration> {
        self.idle_since
            .lock()
            .expect("idle_since lock")
            .map(|since| since.elapsed())
    }

    /// Stop taking invocations; the one running (if any) may still finish.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.drain_started.notify_waiters();
    }

    /// Ends the running invocation with `failure` (the process died or was killed).
    pub fn fail_running(&self, failure: Failure) -> Option<(String, String)> {
        let running = self.running.lock().expect("running lock").take()?;
        let label = (running.route.clone(), running.connection_id.clone());
        let _ = running.reply.send(Invoked {
            outcome: Outcome::Failed(failure),
            handed_out: Some(running.started),
            ended: Instant::now(),
        });
        Some(label)
    }

    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        if let Some(busy) = &self.busy {
            busy.touch();
        }
        let path = request.uri().path().to_string();
        let method = request.method().clone();
        if method == Method::GET && path == NEXT_PATH {
            return self.next().await;
        }
        if method != Method::POST {
            return error_response(StatusCode::NOT_FOUND, "UnknownPath", &path);
        }
        let body = match request.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => return error_response(StatusCode::BAD_REQUEST, "InvalidBody", &path),
        };
        if path == INIT_ERROR_PATH {
            output::line(
                &self.name,
                &format!("failed to start: {}", String::from_utf8_lossy(&body)),
            );
            return accepted();
        }
        let Some(rest) = path.strip_prefix(INVOCATION_PREFIX) else {
            return error_response(StatusCode::NOT_FOUND, "UnknownPath", &path);
        };
        match rest.rsplit_once('/') {
            Some((request_id, "response")) => self.complete(request_id, Ok(body)),
            Some((request_id, "error")) => self.complete(request_id, Err(body)),
            _ => error_response(StatusCode::NOT_FOUND, "UnknownPath", &path),
        }
    }

    /// `GET /next`: wait for an invocation, then hand it to the process.
    async fn next(&self) -> Response<Full<Bytes>> {
        if self.first_poll.set(Instant::now()).is_ok() {
            self.first_polled.notify_waiters();
        }
        // A process that asks for the next event without answering the last one dropped it.
        if let Some((route, connection)) = self.fail_running(Failure::Error {
            error_type: "Runtime.NoResponse".into(),
            message: "the function asked for the next event without answering this one".into(),
        }) {
            output::line(
                &self.name,
                &format!("{route} {connection}: no response was posted"),
            );
        }
        *self.idle_since.lock().expect("idle_since lock") = Some(Instant::now());
        let invocation = loop {
            // Registered before the flag is read, so a drain in between is not missed.
            let drain = self.drain_started.notified();
            tokio::pin!(drain);
            drain.as_mut().enable();
            if self.draining.load(Ordering::SeqCst) {
                return std::future::pending().await;
            }
            let (slot, mut assigned) = oneshot::channel();
            if self.dispatch.worker_idle(slot).is_err() {
                return std::future::pending().await; // the emulator is shutting down
            }
            tokio::select! {
                invocation = &mut assigned => match invocation {
                    Ok(invocation) => break invocation,
                    Err(_) => return std::future::pending().await,
                },
                // Draining: an invocation handed over just before still runs here (dropping it
                // would lose it); otherwise dropping `assigned` makes the dispatcher skip this
                // worker from now on.
                _ = drain => match assigned.try_recv() {
                    Ok(invocation) => break invocation,
                    Err(_) => continue,
                },
            }
        };

        let request_id = ids::lambda_request_id();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let deadline_ms = (now + self.function.timeout).as_millis();
        *self.idle_since.lock().expect("idle_since lock") = None;
        let Invocation {
            event,
            route,
            connection_id,
            reply,
        } = invocation;
        *self.running.lock().expect("running lock") = Some(Running {
            request_id: request_id.clone(),
            route,
            connection_id,
            started: Instant::now(),
            reply,
        });
        self.handed_out.notify_waiters();

        Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", &request_id)
            .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
            .header("lambda-runtime-invoked-function-arn", &self.function.arn)
            .header("lambda-runtime-trace-id", ids::trace_id(now.as_secs()))
            .body(Full::new(event))
            .expect("static response parts")
    }

    /// `POST /invocation/{id}/response` (Ok) or `/error` (Err).
    fn complete(&self, request_id: &str, result: Result<Bytes, Bytes>) -> Response<Full<Bytes>> {
        let running = {
            let mut running = self.running.lock().expect("running lock");
            match running.as_ref() {
                Some(current) if current.request_id == request_id => running.take(),
                _ => None,
            }
        };
        let Some(running) = running else {
            return error_response(
                StatusCode::BAD_REQUEST,
                "InvalidRequestID",
                "no invocation with this request id is running",
            );
        };
        let ended = Instant::now();
        // The runtime writes the invocation's line itself (`socket invocation route=… status=…`,
        // as on AWS), so a posted response or error adds nothing here; timeouts and crashes,
        // which the runtime cannot report, are printed where they are detected.
        let outcome = match result {
            Ok(body) => Outcome::Response(body),
            Err(body) => {
                let (error_type, message) = parse_error(&body);
                Outcome::Failed(Failure::Error {
                    error_type,
                    message,
                })
            }
        };
        let _ = running.reply.send(Invoked {
            outcome,
            handed_out: Some(running.started),
            ended,
        });
        accepted()
    }
}

/// Lambda's error document: `{"errorType": "...", "errorMessage": "..."}`.
fn parse_error(body: &[u8]) -> (String, String) {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_string);
    (
        field("errorType").unwrap_or_else(|| "Unhandled".into()),
        field("errorMessage").unwrap_or_else(|| String::from_utf8_lossy(body).into_owned()),
    )
}

pub fn format_ms(duration: Duration) -> String {
    format!("{:.1}ms", duration.as_secs_f64() * 1000.0)
}

fn accepted() -> Response<Full<Bytes>> {
    responses::json(StatusCode::ACCEPTED, &serde_json::json!({ "status": "OK" }))
}

fn error_response(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    responses::json(
        status,
        &serde_json::json!({ "errorType": error_type, "errorMessage": message }),
    )
}
