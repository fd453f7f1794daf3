//! `socket-bench hold`: open C connections at once, keep them all open, and report how many the
//! server accepted and how much memory it used to hold them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch, Semaphore};

use crate::echo_load::{connect, next_text, round_trip};
use crate::message::EchoShape;
use crate::rss;
use crate::stats::Summary;

#[derive(Debug, Clone)]
pub struct HoldLoad {
    pub url: String,
    pub connections: usize,
    /// Handshakes in flight at once (the rest queue in the client).
    pub concurrency: usize,
    /// Every handshake must finish within this time from the start, or counts as failed.
    pub open_limit: Duration,
    /// How long all connections stay open before memory is read and they are checked.
    pub hold: Duration,
    /// The server process whose tree's resident memory is reported.
    pub pid: Option<u32>,
    /// How many of the held connections send one echo at the end, to show they still work.
    pub verify: usize,
    pub shape: EchoShape,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HoldReport {
    pub kind: String,
    pub label: String,
    pub url: String,
    pub requested: usize,
    pub opened: usize,
    pub failed: usize,
    pub first_error: Option<String>,
    pub open_s: f64,
    pub connect: Summary,
    pub still_open: usize,
    pub verified: usize,
    pub verify_failed: usize,
    pub server_processes: Option<usize>,
    pub rss_idle_kib: Option<u64>,
    pub rss_held_kib: Option<u64>,
    pub rss_per_connection_kib: Option<f64>,
}

enum Opened {
    Yes(Duration),
    No(String),
}

struct HeldOutcome {
    still_open: bool,
    verified: Option<bool>,
}

impl HoldLoad {
    pub async fn run(&self, label: &str) -> HoldReport {
        let rss_idle = self.pid.and_then(rss::tree_rss_kib);
        let started = Instant::now();
        let open_deadline = started + self.open_limit;
        let permits = Arc::new(Semaphore::new(self.concurrency.max(1)));
        let (opened_tx, mut opened_rx) = mpsc::unbounded_channel();
        let (release_tx, release_rx) = watch::channel(false);
        let shape = Arc::new(self.shape.clone());

        let mut tasks = Vec::with_capacity(self.connections);
        for index in 0..self.connections {
            let (url, permits, opened_tx, mut release_rx, shape) = (
                self.url.clone(),
                Arc::clone(&permits),
                opened_tx.clone(),
                release_rx.clone(),
                Arc::clone(&shape),
            );
            let verify = index < self.verify;
            tasks.push(tokio::spawn(async move {
                let permit = permits.acquire_owned().await.expect("semaphore open");
                let remaining = open_deadline.saturating_duration_since(Instant::now());
                let attempt = connect(&url, remaining.max(Duration::from_millis(1))).await;
                drop(permit);
                let mut socket = match attempt {
                    Ok((socket, took)) => {
                        let _ = opened_tx.send(Opened::Yes(took));
                        socket
                    }
                    Err(error) => {
                        let _ = opened_tx.send(Opened::No(error));
                        return None;
                    }
                };
                // Hold: watch for the server closing the connection until told to let go.
                let still_open = tokio::select! {
                    _ = release_rx.wait_for(|released| *released) => true,
                    _ = next_text(&mut socket) => false,
                };
                let verified = if verify && still_open {
                    let data = shape.data(index, 0);
                    Some(
                        round_trip(&mut socket, &shape, &data, Duration::from_secs(10))
                            .await
                            .is_ok(),
                    )
                } else {
                    None
                };
                let _ = socket.close(None).await;
                Some(HeldOutcome {
                    still_open,
                    verified,
                })
            }));
        }
        drop(opened_tx);

        let mut connect_times = Vec::with_capacity(self.connections);
        let mut errors = Vec::new();
        // Each task reports its handshake exactly once, then keeps its sender while it holds.
        for _ in 0..self.connections {
            match opened_rx.recv().await {
                Some(Opened::Yes(took)) => connect_times.push(took),
                Some(Opened::No(error)) => errors.push(error),
                None => break,
            }
        }
        let open_s = started.elapsed().as_secs_f64();
        tokio::time::sleep(self.hold).await;
        let rss_held = self.pid.and_then(rss::tree_rss_kib);
        let server_processes = self.pid.map(rss::tree_size);
        let _ = release_tx.send(true);

        let (mut still_open, mut verified, mut verify_failed) = (0, 0, 0);
        for task in tasks {
            if let Ok(Some(outcome)) = task.await {
                still_open += usize::from(outcome.still_open);
                match outcome.verified {
                    Some(true) => verified += 1,
                    Some(false) => verify_failed += 1,
                    None => {}
                }
            }
        }
        let opened = connect_times.len();
        let rss_per_connection_kib = match (rss_idle, rss_held) {
            (Some(idle), Some(held)) if opened > 0 => {
                Some((held as f64 - idle as f64) / opened as f64)
            }
            _ => None,
        };
        HoldReport {
            kind: "hold".into(),
            label: label.into(),
            url: self.url.clone(),
            requested: self.connections,
            opened,
            failed: errors.len(),
            first_error: errors.into_iter().next(),
            open_s,
            connect: Summary::of(&connect_times),
            still_open,
            verified,
            verify_failed,
            server_processes,
            rss_idle_kib: rss_idle,
            rss_held_kib: rss_held,
            rss_per_connection_kib,
        }
    }
}

impl HoldReport {
    pub fn print(&self) {
        println!(
            "hold {label}: {opened}/{requested} opened in {open:.2}s ({failed} failed), {still} still open \
             after the hold; connect p50 {c50:.2} ms p99 {c99:.2} ms; verified echoes {ok}/{tried}",
            label = self.label,
            opened = self.opened,
            requested = self.requested,
            open = self.open_s,
            failed = self.failed,
            still = self.still_open,
            c50 = self.connect.p50_ms,
            c99 = self.connect.p99_ms,
            ok = self.verified,
            tried = self.verified + self.verify_failed,
        );
        if let (Some(idle), Some(held)) = (self.rss_idle_kib, self.rss_held_kib) {
            println!(
                "  server RSS ({procs} processes): idle {idle_mb:.1} MiB, holding {held_mb:.1} MiB \
                 ({per:.1} KiB per connection)",
                procs = self.server_processes.unwrap_or(1),
                idle_mb = idle as f64 / 1024.0,
                held_mb = held as f64 / 1024.0,
                per = self.rss_per_connection_kib.unwrap_or(f64::NAN),
            );
        }
        if let Some(error) = &self.first_error {
            println!("  first error: {error}");
        }
    }
}
