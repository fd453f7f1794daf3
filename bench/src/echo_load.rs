//! `socket-bench echo`: N connections, M echo messages on each, sent one after another per
//! connection (the next message leaves when the previous echo has arrived).
//!
//! All connections are opened first, concurrently; messaging starts when every handshake has
//! finished, so throughput measures messages, and connect time measures handshakes under the same
//! concurrency as the load.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::message::EchoShape;
use crate::stats::Summary;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The load to run.
#[derive(Debug, Clone)]
pub struct EchoLoad {
    pub url: String,
    pub connections: usize,
    pub messages: usize,
    pub shape: EchoShape,
    /// Longest wait for one handshake or one echo before the connection counts as failed.
    pub timeout: Duration,
    /// Messaging stops when this much time has passed (slow servers finish fewer messages).
    pub time_limit: Duration,
    /// Echoes sent on a separate connection before the load, not measured: every server gets
    /// to load its handler code and warm its caches first.
    pub warmup: usize,
}

/// What one run measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EchoReport {
    pub kind: String,
    pub label: String,
    pub url: String,
    pub connections: usize,
    pub messages_per_connection: usize,
    pub connected: usize,
    pub echoed: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    pub hit_time_limit: bool,
    pub elapsed_s: f64,
    pub throughput_msg_s: f64,
    pub latency: Summary,
    pub connect: Summary,
}

/// Opens one WebSocket, returning it and the handshake time.
pub async fn connect(url: &str, timeout: Duration) -> Result<(Socket, Duration), String> {
    let started = Instant::now();
    match tokio::time::timeout(timeout, tokio_tungstenite::connect_async(url)).await {
        Ok(Ok((socket, _response))) => Ok((socket, started.elapsed())),
        Ok(Err(error)) => Err(format!("connect: {error}")),
        Err(_) => Err(format!("connect: no handshake within {timeout:?}")),
    }
}

/// Waits for the next text frame, skipping control frames.
pub async fn next_text(socket: &mut Socket) -> Result<String, String> {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
            Some(Ok(Message::Binary(bytes))) => {
                return Ok(String::from_utf8_lossy(&bytes).into_owned())
            }
            Some(Ok(Message::Close(frame))) => return Err(format!("closed by server: {frame:?}")),
            Some(Ok(_control)) => continue,
            Some(Err(error)) => return Err(format!("read: {error}")),
            None => return Err("connection ended".into()),
        }
    }
}

/// Sends one echo request and waits for its echo; returns the round trip.
pub async fn round_trip(
    socket: &mut Socket,
    shape: &EchoShape,
    data: &serde_json::Value,
    timeout: Duration,
) -> Result<Duration, String> {
    let request = shape.request(data);
    let started = Instant::now();
    socket
        .send(Message::text(request))
        .await
        .map_err(|e| format!("send: {e}"))?;
    let reply = tokio::time::timeout(timeout, next_text(socket))
        .await
        .map_err(|_| format!("no echo within {timeout:?}"))??;
    let elapsed = started.elapsed();
    if EchoShape::is_echo_of(&reply, data) {
        Ok(elapsed)
    } else {
        Err(format!("unexpected reply: {}", truncate(&reply, 200)))
    }
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((index, _)) => &text[..index],
        None => text,
    }
}

struct ConnectionResult {
    latencies: Vec<Duration>,
    error: Option<String>,
    stopped_by_time_limit: bool,
}

impl EchoLoad {
    pub async fn run(&self, label: &str) -> EchoReport {
        let mut errors = Vec::new();
        if self.warmup > 0 {
            if let Err(error) = self.warm_up().await {
                errors.push(format!("warm-up: {error}"));
            }
        }
        let mut handshakes = Vec::with_capacity(self.connections);
        for _ in 0..self.connections {
            let url = self.url.clone();
            let timeout = self.timeout;
            handshakes.push(tokio::spawn(async move { connect(&url, timeout).await }));
        }
        let mut sockets = Vec::new();
        let mut connect_times = Vec::new();
        for handshake in handshakes {
            match handshake.await.expect("connect task") {
                Ok((socket, took)) => {
                    sockets.push(socket);
                    connect_times.push(took);
                }
                Err(error) => errors.push(error),
            }
        }
        let connected = sockets.len();

        let started = Instant::now();
        let deadline = started + self.time_limit;
        let shape = Arc::new(self.shape.clone());
        let mut workers = Vec::with_capacity(connected);
        for (index, mut socket) in sockets.into_iter().enumerate() {
            let shape = Arc::clone(&shape);
            let (messages, timeout) = (self.messages, self.timeout);
            workers.push(tokio::spawn(async move {
                let mut result = ConnectionResult {
                    latencies: Vec::with_capacity(messages),
                    error: None,
                    stopped_by_time_limit: false,
                };
                for seq in 0..messages {
                    if Instant::now() >= deadline {
                        result.stopped_by_time_limit = true;
                        break;
                    }
                    let data = shape.data(index, seq);
                    match round_trip(&mut socket, &shape, &data, timeout).await {
                        Ok(took) => result.latencies.push(took),
                        Err(error) => {
                            result.error = Some(error);
                            break;
                        }
                    }
                }
                let _ = socket.close(None).await;
                result
            }));
        }
        let mut latencies = Vec::with_capacity(connected * self.messages);
        let mut hit_time_limit = false;
        for worker in workers {
            let result = worker.await.expect("message task");
            latencies.extend(result.latencies);
            hit_time_limit |= result.stopped_by_time_limit;
            errors.extend(result.error);
        }
        let elapsed = started.elapsed();
        EchoReport {
            kind: "echo".into(),
            label: label.into(),
            url: self.url.clone(),
            connections: self.connections,
            messages_per_connection: self.messages,
            connected,
            echoed: latencies.len(),
            errors: errors.len(),
            first_error: errors.into_iter().next(),
            hit_time_limit,
            elapsed_s: elapsed.as_secs_f64(),
            throughput_msg_s: latencies.len() as f64 / elapsed.as_secs_f64(),
            latency: Summary::of(&latencies),
            connect: Summary::of(&connect_times),
        }
    }
}

impl EchoLoad {
    async fn warm_up(&self) -> Result<(), String> {
        let (mut socket, _) = connect(&self.url, self.timeout).await?;
        for seq in 0..self.warmup {
            // An index no load connection uses, small enough for JavaScript numbers.
            let data = self.shape.data(999_999, seq);
            round_trip(&mut socket, &self.shape, &data, self.timeout).await?;
        }
        let _ = socket.close(None).await;
        Ok(())
    }
}

impl EchoReport {
    pub fn print(&self) {
        println!(
            "echo {label}: {c}x{m} → {echoed} echoed in {elapsed:.2}s = {tp:.0} msg/s; \
             latency p50 {l50:.3} ms p99 {l99:.3} ms; connect p50 {c50:.2} ms p99 {c99:.2} ms; \
             {connected}/{c} connected, {errors} errors{limit}",
            label = self.label,
            c = self.connections,
            m = self.messages_per_connection,
            echoed = self.echoed,
            elapsed = self.elapsed_s,
            tp = self.throughput_msg_s,
            l50 = self.latency.p50_ms,
            l99 = self.latency.p99_ms,
            c50 = self.connect.p50_ms,
            c99 = self.connect.p99_ms,
            connected = self.connected,
            errors = self.errors,
            limit = if self.hit_time_limit {
                " (stopped at the time limit)"
            } else {
                ""
            },
        );
        if let Some(error) = &self.first_error {
            println!("  first error: {error}");
        }
    }
}
