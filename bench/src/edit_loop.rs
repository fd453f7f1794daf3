//! `socket-bench edit-loop`: save → new code served under `socket dev`, as a user lives it. A
//! project from `socket init` (the echo template), `socket dev` on it, one connection; then N
//! times: a one-line edit of `src/main.rs` (the `whoami` reply gains `"edit": n`), and `whoami`
//! sent every 20 ms on the open connection until a reply carries the new value. Measured per
//! edit: the save until `socket dev` says it is rebuilding (watch + settle), until it says the
//! workers were replaced (cargo), and until the new code answered (swap + first invocation).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::echo_load::{connect, next_text};
use crate::stats::median;

#[derive(Debug, Clone)]
pub struct EditLoop {
    /// The `socket` binary.
    pub socket: PathBuf,
    /// Where the project and its target folder live (the target folder is kept between runs).
    pub dir: PathBuf,
    pub edits: usize,
    /// `--worker-target` for `socket dev`.
    pub worker_target: String,
}

/// One edit's times, in milliseconds after the save.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EditTimes {
    pub rebuilding_ms: f64,
    pub replaced_ms: f64,
    pub served_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EditLoopReport {
    pub kind: String,
    pub label: String,
    pub worker_target: String,
    pub edits: Vec<EditTimes>,
    pub median_served_ms: f64,
    pub median_rebuilding_ms: f64,
    pub median_replaced_ms: f64,
}

/// `socket dev`'s output lines, each with when it was read.
type Lines = Arc<Mutex<Vec<(Instant, String)>>>;

struct Dev {
    child: Child,
    lines: Lines,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Dev {
    fn start(
        socket: &Path,
        project: &Path,
        target_dir: &Path,
        worker_target: &str,
    ) -> Result<Dev, String> {
        let mut child = Command::new(socket)
            .args([
                "dev",
                "--port",
                "0",
                "--workers",
                "1",
                "--worker-target",
                worker_target,
            ])
            .arg("--config")
            .arg(project.join("serverless.yml"))
            .env("CARGO_TARGET_DIR", target_dir)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", socket.display()))?;
        let lines: Lines = Arc::default();
        let streams: [Box<dyn std::io::Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("piped")),
            Box::new(child.stderr.take().expect("piped")),
        ];
        for stream in streams {
            let lines = Arc::clone(&lines);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push((Instant::now(), line));
                }
            });
        }
        Ok(Dev { child, lines })
    }

    /// The first line after `since` containing `text`, with when it was read.
    async fn wait_for(
        &self,
        text: &str,
        since: Instant,
        limit: Duration,
    ) -> Result<(Instant, String), String> {
        let give_up = Instant::now() + limit;
        loop {
            let found = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|(at, line)| *at >= since && line.contains(text))
                .cloned();
            if let Some(found) = found {
                return Ok(found);
            }
            if Instant::now() > give_up {
                let all: Vec<String> = self
                    .lines
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|(_, l)| l.clone())
                    .collect();
                return Err(format!(
                    "socket dev printed no `{text}` in {limit:?}:\n{}",
                    all.join("\n")
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl EditLoop {
    pub async fn run(&self, label: &str) -> Result<EditLoopReport, String> {
        let project = self.dir.join("project");
        let _ = std::fs::remove_dir_all(&project);
        std::fs::create_dir_all(&self.dir).map_err(|e| e.to_string())?;
        let init = Command::new(&self.socket)
            .args(["init", "--json"])
            .arg(&project)
            .output()
            .map_err(|e| e.to_string())?;
        if !init.status.success() {
            return Err(format!(
                "socket init failed: {}",
                String::from_utf8_lossy(&init.stderr)
            ));
        }
        let dev = Dev::start(
            &self.socket,
            &project,
            &self.dir.join("target"),
            &self.worker_target,
        )?;
        let (_, url) = dev
            .wait_for("ws://", Instant::now(), Duration::from_secs(1800))
            .await?;
        let (mut socket, _) = connect(url.trim(), Duration::from_secs(10)).await?;

        let main = project.join("src/main.rs");
        let mut edits = Vec::new();
        for edit in 1..=self.edits {
            // Let the previous swap and any file events settle, as between two real edits.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let source = std::fs::read_to_string(&main).map_err(|e| e.to_string())?;
            let changed = if edit == 1 {
                source.replace(
                    "\"greeting\": greeting",
                    "\"greeting\": greeting, \"edit\": 1",
                )
            } else {
                source.replace(
                    &format!("\"edit\": {}", edit - 1),
                    &format!("\"edit\": {edit}"),
                )
            };
            if changed == source {
                return Err("the echo template's whoami reply changed: update the edit".into());
            }
            std::fs::write(&main, changed).map_err(|e| e.to_string())?;
            let saved = Instant::now();
            let served = loop {
                socket
                    .send(Message::text(r#"{"route":"whoami"}"#))
                    .await
                    .map_err(|e| e.to_string())?;
                let reply: Value = serde_json::from_str(&next_text(&mut socket).await?)
                    .map_err(|e| e.to_string())?;
                if reply["edit"] == edit {
                    break saved.elapsed();
                }
                if saved.elapsed() > Duration::from_secs(600) {
                    return Err(format!("edit {edit} not served after 10 minutes"));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            let limit = Duration::from_secs(5);
            let (rebuilding, _) = dev.wait_for("rebuilding", saved, limit).await?;
            let (replaced, _) = dev.wait_for("workers replaced", saved, limit).await?;
            let ms = |at: Instant| at.saturating_duration_since(saved).as_secs_f64() * 1000.0;
            edits.push(EditTimes {
                rebuilding_ms: ms(rebuilding),
                replaced_ms: ms(replaced),
                served_ms: served.as_secs_f64() * 1000.0,
            });
        }
        let column =
            |pick: fn(&EditTimes) -> f64| median(&edits.iter().map(pick).collect::<Vec<_>>());
        Ok(EditLoopReport {
            kind: "edit-loop".into(),
            label: label.into(),
            worker_target: self.worker_target.clone(),
            median_served_ms: column(|e| e.served_ms),
            median_rebuilding_ms: column(|e| e.rebuilding_ms),
            median_replaced_ms: column(|e| e.replaced_ms),
            edits,
        })
    }
}

impl EditLoopReport {
    pub fn print(&self) {
        for (n, edit) in self.edits.iter().enumerate() {
            println!(
                "edit {}: rebuilding after {:.0} ms, workers replaced after {:.0} ms, new code served after {:.0} ms",
                n + 1,
                edit.rebuilding_ms,
                edit.replaced_ms,
                edit.served_ms
            );
        }
        println!(
            "{} ({} workers): save → new code served, median of {}: {:.2} s (rebuild starts {:.0} ms, workers replaced {:.0} ms)",
            self.label,
            self.worker_target,
            self.edits.len(),
            self.median_served_ms / 1000.0,
            self.median_rebuilding_ms,
            self.median_replaced_ms
        );
    }
}
