//! `socket-bench broadcast`: one message to a channel of C connections held by `socket dev` on
//! examples/chat. C named connections open (`?name=`), all join one channel through the registry
//! (the calls `socket.join` makes, timed: join throughput), one member says something into it
//! with the chat's `say` route, and the handler's broadcast posts it to every member; measured:
//! the time from the `say` frame until the last member has the message, and the memory of
//! `socket dev` and its workers. Then all leave (leave throughput).
//!
//! The channel is filled through the registry rather than with the chat's `join` route because
//! every chat join tells all current members (presence): filling a room of C that way posts
//! C²/2 messages (50 million for 10,000), which measures presence, not broadcast.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use crate::echo_load::{connect, next_text};
use crate::registry_load::{self, Change, ThroughputReport};
use crate::rss;
use crate::stats::Summary;

#[derive(Debug, Clone)]
pub struct BroadcastLoad {
    /// ws:// URL of `socket dev` on examples/chat.
    pub url: String,
    pub connections: usize,
    /// Handshakes in flight at once.
    pub concurrency: usize,
    pub open_limit: Duration,
    /// `http://127.0.0.1:<port>/@dynamodb`.
    pub registry_endpoint: String,
    pub table: String,
    pub channel: String,
    /// Registry calls in flight at once.
    pub registry_concurrency: usize,
    /// `socket dev`'s process id: its tree's memory is reported.
    pub pid: Option<u32>,
    /// Longest wait for the last member to have the message.
    pub timeout: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BroadcastReport {
    pub kind: String,
    pub label: String,
    pub requested: usize,
    pub opened: usize,
    pub open_failed: usize,
    pub first_open_error: Option<String>,
    pub open_s: f64,
    /// Connections the registry lists after the opens.
    pub registered: usize,
    pub join: ThroughputReport,
    /// Members of the channel before the broadcast.
    pub members: usize,
    /// Members that received the message.
    pub delivered: usize,
    /// Time from the `say` frame to each member having the message.
    pub arrival: Summary,
    /// Time until the last member had it.
    pub last_ms: f64,
    pub leave: ThroughputReport,
    pub server_processes: Option<usize>,
    pub rss_idle_kib: Option<u64>,
    pub rss_joined_kib: Option<u64>,
    /// The largest sample (every 50 ms) while the broadcast ran.
    pub rss_peak_kib: Option<u64>,
}

enum Opened {
    Yes,
    No(String),
}

/// What a held connection's task wakes up for.
enum Event {
    Release,
    Say(Option<String>),
    Frame(Option<String>),
}

impl BroadcastLoad {
    pub async fn run(&self, label: &str) -> Result<BroadcastReport, String> {
        let registry = Arc::new(registry_load::registry(
            &self.registry_endpoint,
            &self.table,
        )?);
        let rss_idle = self.pid.and_then(rss::tree_rss_kib);
        let marker = format!(
            "broadcast-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        );

        let started = Instant::now();
        let open_deadline = started + self.open_limit;
        let permits = Arc::new(Semaphore::new(self.concurrency.max(1)));
        let (opened_tx, mut opened_rx) = mpsc::unbounded_channel();
        let (arrived_tx, mut arrived_rx) = mpsc::unbounded_channel();
        let (release_tx, release_rx) = watch::channel(false);
        let (say_tx, say_rx) = oneshot::channel::<String>();
        let mut say_rx = Some(say_rx);
        let mut tasks = Vec::with_capacity(self.connections);
        for index in 0..self.connections {
            let url = format!("{}?name=b{index}", self.url);
            let (permits, opened_tx, arrived_tx, mut release_rx, marker) = (
                Arc::clone(&permits),
                opened_tx.clone(),
                arrived_tx.clone(),
                release_rx.clone(),
                marker.clone(),
            );
            // The first connection is the one that says the message.
            let mut say = say_rx.take();
            tasks.push(tokio::spawn(async move {
                let permit = permits.acquire_owned().await.expect("semaphore open");
                let remaining = open_deadline.saturating_duration_since(Instant::now());
                let attempt = connect(&url, remaining.max(Duration::from_millis(1))).await;
                drop(permit);
                let mut socket = match attempt {
                    Ok((socket, _took)) => {
                        let _ = opened_tx.send(Opened::Yes);
                        socket
                    }
                    Err(error) => {
                        let _ = opened_tx.send(Opened::No(error));
                        return;
                    }
                };
                loop {
                    // Decided inside the select, acted on after it: the watch's borrow must not
                    // live across the send.
                    let event = tokio::select! {
                        _ = release_rx.wait_for(|released| *released) => Event::Release,
                        frame = async { say.as_mut().expect("guarded").await }, if say.is_some() => {
                            say = None;
                            Event::Say(frame.ok())
                        }
                        text = next_text(&mut socket) => Event::Frame(text.ok()),
                    };
                    match event {
                        Event::Release | Event::Frame(None) => break,
                        Event::Say(Some(frame)) => {
                            let _ = socket.send(Message::text(frame)).await;
                        }
                        Event::Say(None) => {}
                        Event::Frame(Some(text)) => {
                            let value: Value = serde_json::from_str(&text).unwrap_or_default();
                            if value["type"] == "message" && value["text"] == marker.as_str() {
                                let _ = arrived_tx.send(Instant::now());
                            }
                        }
                    }
                }
                let _ = socket.close(None).await;
            }));
        }
        drop((opened_tx, arrived_tx));

        let mut opened = 0;
        let mut open_errors = Vec::new();
        for _ in 0..self.connections {
            match opened_rx.recv().await {
                Some(Opened::Yes) => opened += 1,
                Some(Opened::No(error)) => open_errors.push(error),
                None => break,
            }
        }
        let open_s = started.elapsed().as_secs_f64();

        // Every accepted connection is in the registry (`connect` answered 200 first).
        let ids = registry
            .connections()
            .await
            .map_err(|error| format!("list the registry's connections: {error}"))?;
        let join = registry_load::change_all(
            Arc::clone(&registry),
            &ids,
            &self.channel,
            Change::Join,
            self.registry_concurrency,
        )
        .await;
        let members = registry
            .member_count(&self.channel)
            .await
            .map_err(|error| format!("count the channel's members: {error}"))?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss_joined = self.pid.and_then(rss::tree_rss_kib);
        let server_processes = self.pid.map(rss::tree_size);

        let (stop_sampling, sampler) = self.sample_peak_rss();
        let say = json!({ "route": "say", "data": { "room": self.channel, "text": marker } });
        let said = Instant::now();
        let _ = say_tx.send(say.to_string());
        let mut arrivals = Vec::with_capacity(members);
        let give_up = said + self.timeout;
        while arrivals.len() < members {
            match tokio::time::timeout_at(give_up.into(), arrived_rx.recv()).await {
                Ok(Some(at)) => arrivals.push(at - said),
                Ok(None) | Err(_) => break,
            }
        }
        let _ = stop_sampling.send(());
        let rss_peak = sampler.await.unwrap_or(None);

        let leave = registry_load::change_all(
            Arc::clone(&registry),
            &ids,
            &self.channel,
            Change::Leave,
            self.registry_concurrency,
        )
        .await;
        let _ = release_tx.send(true);
        for task in tasks {
            let _ = task.await;
        }
        let arrival = Summary::of(&arrivals);
        Ok(BroadcastReport {
            kind: "broadcast".into(),
            label: label.into(),
            requested: self.connections,
            opened,
            open_failed: open_errors.len(),
            first_open_error: open_errors.into_iter().next(),
            open_s,
            registered: ids.len(),
            join,
            members,
            delivered: arrivals.len(),
            last_ms: arrival.max_ms,
            arrival,
            leave,
            server_processes,
            rss_idle_kib: rss_idle,
            rss_joined_kib: rss_joined,
            rss_peak_kib: rss_peak,
        })
    }

    /// Samples the server tree's RSS every 50 ms until told to stop; yields the largest.
    fn sample_peak_rss(&self) -> (oneshot::Sender<()>, tokio::task::JoinHandle<Option<u64>>) {
        let (stop_tx, mut stop_rx) = oneshot::channel();
        let pid = self.pid;
        let sampler = tokio::spawn(async move {
            let pid = pid?;
            let mut peak = rss::tree_rss_kib(pid);
            loop {
                tokio::select! {
                    _ = &mut stop_rx => return peak,
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {
                        peak = peak.max(rss::tree_rss_kib(pid));
                    }
                }
            }
        });
        (stop_tx, sampler)
    }
}

impl BroadcastReport {
    pub fn print(&self) {
        let mib = |kib: Option<u64>| kib.map_or(f64::NAN, |kib| kib as f64 / 1024.0);
        println!(
            "broadcast {label}: {opened}/{requested} opened in {open:.2}s ({failed} failed); \
             {registered} registered",
            label = self.label,
            opened = self.opened,
            requested = self.requested,
            open = self.open_s,
            failed = self.open_failed,
            registered = self.registered,
        );
        for (what, report) in [("joins", &self.join), ("leaves", &self.leave)] {
            println!(
                "  {what}: {calls} in {s:.2}s = {rate:.0}/s (call p50 {p50:.2} ms p99 {p99:.2} ms), {failed} failed",
                calls = report.calls,
                s = report.seconds,
                rate = report.per_second,
                p50 = report.call.p50_ms,
                p99 = report.call.p99_ms,
                failed = report.failed,
            );
            if let Some(error) = &report.first_error {
                println!("    first error: {error}");
            }
        }
        println!(
            "  one message to {members} members: {delivered} delivered; last after {last:.1} ms \
             (p50 {p50:.1} ms)",
            members = self.members,
            delivered = self.delivered,
            last = self.last_ms,
            p50 = self.arrival.p50_ms,
        );
        println!(
            "  server RSS ({procs} processes): idle {idle:.1} MiB, {members} joined {joined:.1} MiB, \
             peak during the broadcast {peak:.1} MiB",
            procs = self.server_processes.unwrap_or(1),
            idle = mib(self.rss_idle_kib),
            members = self.members,
            joined = mib(self.rss_joined_kib),
            peak = mib(self.rss_peak_kib),
        );
        if let Some(error) = &self.first_open_error {
            println!("  first open error: {error}");
        }
    }
}
