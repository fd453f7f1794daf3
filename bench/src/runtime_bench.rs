//! `socket-bench runtime`: the same WebSocket MESSAGE event fed through the Runtime API to
//! several Lambda binaries (the `examples/echo` bootstrap and the bare `lambda_runtime` baseline),
//! alternating between them so both see the same machine conditions.
//!
//! Per binary: cold start (process spawn → its first `/next`), per-invocation time (event handed
//! out on `/next` → response posted, which includes the handler's POST to the management
//! endpoint), and wall time per invocation over a sequential run.
//!
//! The Runtime API is the emulator's ([`socket_emulator::Function`]): all of an instance's events
//! are queued before it starts, so each `/next` is answered at once and the driver adds no wait
//! of its own between invocations.

use std::ffi::OsString;
use std::fs::File;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json;
use socket_emulator::{Failure, Function, FunctionConfig, LambdaFunction, Outcome, ProcessOutput};
use tokio::process::Command;

use crate::management_stand_in::ManagementStandIn;
use crate::stats::{median, Summary};
use crate::websocket_event::{message_event, STAGE};

/// How long one instance may stay silent (no `/next`, no response) before it counts as stuck.
const SILENCE_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Candidate {
    pub label: String,
    pub binary: PathBuf,
}

#[derive(Debug, Clone)]
pub struct RuntimeBench {
    pub candidates: Vec<Candidate>,
    /// Invocations per binary, split evenly over the rounds.
    pub invocations: usize,
    pub rounds: usize,
    pub cold_starts: usize,
    /// Where each instance's stdout/stderr go (one file per binary, overwritten per instance).
    pub log_dir: PathBuf,
    /// A command the binaries run under (e.g. `valgrind --tool=callgrind`); instances are then
    /// stopped with SIGTERM so the tool can write its results. Each instance's environment has
    /// `SOCKET_BENCH_INSTANCE=<label>-<invocations>` for naming output files.
    pub wrapper: Vec<String>,
    /// Extra environment for every instance (e.g. `SOCKET_REGISTRY_TABLE`, so that a binary
    /// with the registry on starts as it would deployed).
    pub environment: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CandidateReport {
    pub label: String,
    pub binary: String,
    pub binary_bytes: u64,
    pub cold_start: Summary,
    pub invocation: Summary,
    /// Wall time per invocation of each round, in microseconds.
    pub round_wall_us: Vec<f64>,
    pub wall_per_invocation_us: f64,
    pub completed: usize,
    pub failed: usize,
    pub first_failure: Option<String>,
    pub echo_mismatches: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuntimeReport {
    pub kind: String,
    pub invocations: usize,
    pub rounds: usize,
    pub cold_starts: usize,
    pub candidates: Vec<CandidateReport>,
    /// First candidate ÷ second: per-invocation p50, wall per invocation, cold start p50.
    pub invocation_p50_ratio: Option<f64>,
    pub wall_ratio: Option<f64>,
    pub cold_start_ratio: Option<f64>,
}

/// What one function instance did.
struct Instance {
    cold_start: Duration,
    invocation_times: Vec<Duration>,
    wall: Duration,
    failed: usize,
    first_failure: Option<String>,
    echo_mismatches: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("could not start the management endpoint: {0}")]
    Api(std::io::Error),
    #[error("could not start {binary}: {source}")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("{binary} exited ({status}) before finishing (its output is in {log})")]
    Exited {
        binary: String,
        status: String,
        log: String,
    },
    #[error("{binary} went silent for {SILENCE_LIMIT:?} after {completed} invocations (its output is in {log})")]
    Silent {
        binary: String,
        completed: usize,
        log: String,
    },
}

impl RuntimeBench {
    pub async fn run(&self) -> Result<RuntimeReport, InstanceError> {
        std::fs::create_dir_all(&self.log_dir).ok();
        let rounds = self.rounds.max(1);
        let per_round = self.invocations.div_ceil(rounds);
        let mut acc: Vec<Accumulated> = self
            .candidates
            .iter()
            .map(|_| Accumulated::default())
            .collect();

        // Warm the page cache: the first spawn of a binary reads it from disk.
        for candidate in &self.candidates {
            self.instance(candidate, 1).await?;
        }
        // Alternate the order each round so neither binary always runs second.
        for round in 0..rounds {
            for index in order(self.candidates.len(), round) {
                let instance = self.instance(&self.candidates[index], per_round).await?;
                acc[index].add_run(instance, per_round);
            }
        }
        for spawn in 0..self.cold_starts {
            for index in order(self.candidates.len(), spawn) {
                let instance = self.instance(&self.candidates[index], 0).await?;
                acc[index].cold_starts.push(instance.cold_start);
            }
        }

        let candidates: Vec<CandidateReport> = self
            .candidates
            .iter()
            .zip(acc)
            .map(|(candidate, acc)| acc.report(candidate))
            .collect();
        let ratio = |pick: fn(&CandidateReport) -> f64| match candidates.as_slice() {
            [first, second, ..] => Some(pick(first) / pick(second)),
            _ => None,
        };
        Ok(RuntimeReport {
            kind: "runtime".into(),
            invocations: per_round * rounds,
            rounds,
            cold_starts: self.cold_starts,
            invocation_p50_ratio: ratio(|c| c.invocation.p50_ms),
            wall_ratio: ratio(|c| c.wall_per_invocation_us),
            cold_start_ratio: ratio(|c| c.cold_start.p50_ms),
            candidates,
        })
    }

    /// Spawns one instance of `candidate`, feeds it `invocations` events, then kills it.
    async fn instance(
        &self,
        candidate: &Candidate,
        invocations: usize,
    ) -> Result<Instance, InstanceError> {
        let binary = candidate.binary.display().to_string();
        let log = self.log_dir.join(format!("{}.log", candidate.label));
        let log_name = log.display().to_string();
        let spawn_error = |source| InstanceError::Spawn {
            binary: binary.clone(),
            source,
        };
        let management = ManagementStandIn::start(STAGE)
            .await
            .map_err(InstanceError::Api)?;
        let mut config = lambda_config(&management, &format!("{}-{invocations}", candidate.label));
        config.environment.extend(self.environment.iter().cloned());
        let output = ProcessOutput::File(File::create(&log).map_err(spawn_error)?);
        let command = self.command(candidate);
        let function = Function::start(&candidate.label, &command, config, output)
            .await
            .map_err(spawn_error)?;
        let exited = |status| InstanceError::Exited {
            binary: binary.clone(),
            status,
            log: log_name.clone(),
        };
        let silent = |completed| InstanceError::Silent {
            binary: binary.clone(),
            completed,
            log: log_name.clone(),
        };

        let pending: Vec<_> = (0..invocations)
            .map(|seq| {
                let (connection_id, event, data) = invocation(seq);
                management.expect(&connection_id, data);
                function.submit(event)
            })
            .collect();
        let first_next = match tokio::time::timeout(SILENCE_LIMIT, function.first_poll()).await {
            Ok(Some(at)) => at,
            Ok(None) => return Err(exited(function.ended().await)),
            Err(_) => return Err(silent(0)),
        };
        let mut last_completion = None;
        let mut invocation_times = Vec::with_capacity(invocations);
        let mut failed = 0;
        let mut first_failure = None;
        for pending in pending {
            let Ok(invoked) = tokio::time::timeout(SILENCE_LIMIT, pending).await else {
                return Err(silent(invocation_times.len()));
            };
            match invoked.outcome {
                Outcome::Response(_) => {
                    let handed_out = invoked.handed_out.unwrap_or(invoked.ended);
                    invocation_times.push(invoked.ended - handed_out);
                    last_completion = Some(invoked.ended);
                }
                Outcome::Failed(failure @ Failure::Error { .. }) => {
                    failed += 1;
                    first_failure.get_or_insert(failure.to_string());
                }
                Outcome::Failed(_) => return Err(exited(function.ended().await)),
            }
        }
        if !self.wrapper.is_empty() {
            stop_gently(&function).await;
        }
        let spawned = function.spawned_at();
        function.kill().await;
        // Every completed invocation must have posted exactly its own data back.
        let echo_mismatches = invocation_times.len().abs_diff(management.matched());
        Ok(Instance {
            cold_start: first_next - spawned,
            wall: last_completion
                .map(|last| last - first_next)
                .unwrap_or_default(),
            invocation_times,
            failed,
            first_failure,
            echo_mismatches,
        })
    }

    /// The binary, or the wrapper with the binary as its last argument.
    fn command(&self, candidate: &Candidate) -> Vec<OsString> {
        self.wrapper
            .iter()
            .map(OsString::from)
            .chain([candidate.binary.clone().into_os_string()])
            .collect()
    }
}

/// Candidate indices in round-robin order starting at `round`.
fn order(count: usize, round: usize) -> Vec<usize> {
    (0..count).map(|i| (i + round) % count.max(1)).collect()
}

/// Connection id, event and the data the handler must post back, for message `seq`.
fn invocation(seq: usize) -> (String, Bytes, serde_json::Value) {
    let connection_id = format!("conn{seq:08}=");
    let data = json!({ "c": 0, "seq": seq, "pad": "x".repeat(32) });
    let event = Bytes::from(message_event(&connection_id, seq, &data).to_string());
    (connection_id, event, data)
}

/// SIGTERM, so a wrapper such as callgrind writes its results; it is killed after 30 s.
async fn stop_gently(function: &Function) {
    let Some(pid) = function.pid() else { return };
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await;
    let _ = tokio::time::timeout(Duration::from_secs(30), function.ended()).await;
}

/// The environment Lambda gives a custom runtime, with dummy credentials; `instance` names the
/// run in `SOCKET_BENCH_INSTANCE` (for a wrapper's output files).
fn lambda_config(management: &ManagementStandIn, instance: &str) -> FunctionConfig {
    let endpoint = management.endpoint();
    let mut environment = LambdaFunction {
        name: "bench",
        region: "us-east-1",
        memory_mb: 128,
        management_endpoint: &endpoint,
        credentials: None,
    }
    .environment();
    environment.extend([
        (
            "PATH".to_string(),
            "/usr/local/bin:/usr/bin:/bin".to_string(),
        ),
        ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ("SOCKET_BENCH_INSTANCE".into(), instance.to_string()),
    ]);
    FunctionConfig {
        arn: "arn:aws:lambda:us-east-1:123456789012:function:bench".into(),
        timeout: Duration::from_secs(30),
        environment,
        working_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    }
}

#[derive(Default)]
struct Accumulated {
    cold_starts: Vec<Duration>,
    invocation_times: Vec<Duration>,
    round_wall_us: Vec<f64>,
    failed: usize,
    first_failure: Option<String>,
    echo_mismatches: usize,
    missing_posts: usize,
}

impl Accumulated {
    fn add_run(&mut self, instance: Instance, invocations: usize) {
        let completed = instance.invocation_times.len();
        if completed > 0 {
            self.round_wall_us
                .push(instance.wall.as_secs_f64() * 1e6 / completed as f64);
        }
        self.cold_starts.push(instance.cold_start);
        self.invocation_times.extend(instance.invocation_times);
        self.failed += instance.failed;
        if self.first_failure.is_none() {
            self.first_failure = instance.first_failure;
        }
        self.echo_mismatches += instance.echo_mismatches;
        self.missing_posts += invocations.saturating_sub(completed + instance.failed);
    }

    fn report(self, candidate: &Candidate) -> CandidateReport {
        CandidateReport {
            label: candidate.label.clone(),
            binary: candidate.binary.display().to_string(),
            binary_bytes: std::fs::metadata(&candidate.binary)
                .map(|m| m.len())
                .unwrap_or(0),
            cold_start: Summary::of(&self.cold_starts),
            invocation: Summary::of(&self.invocation_times),
            wall_per_invocation_us: median(&self.round_wall_us),
            round_wall_us: self.round_wall_us,
            completed: self.invocation_times.len(),
            failed: self.failed + self.missing_posts,
            first_failure: self.first_failure,
            echo_mismatches: self.echo_mismatches,
        }
    }
}

impl RuntimeReport {
    pub fn print(&self) {
        println!(
            "runtime: {} invocations per binary in {} alternating rounds, {} cold starts each",
            self.invocations, self.rounds, self.cold_starts
        );
        for c in &self.candidates {
            println!(
                "  {label}: per invocation p50 {p50:.1} µs p99 {p99:.1} µs, wall {wall:.1} µs/invocation; \
                 cold start p50 {c50:.2} ms p99 {c99:.2} ms; {done} done, {failed} failed, {bad} wrong echoes; \
                 binary {size:.2} MB",
                label = c.label,
                p50 = c.invocation.p50_ms * 1000.0,
                p99 = c.invocation.p99_ms * 1000.0,
                wall = c.wall_per_invocation_us,
                c50 = c.cold_start.p50_ms,
                c99 = c.cold_start.p99_ms,
                done = c.completed,
                failed = c.failed,
                bad = c.echo_mismatches,
                size = c.binary_bytes as f64 / 1e6,
            );
            if let Some(failure) = &c.first_failure {
                println!("    first failure: {failure}");
            }
        }
        if let (Some(inv), Some(wall), Some(cold)) = (
            self.invocation_p50_ratio,
            self.wall_ratio,
            self.cold_start_ratio,
        ) {
            println!(
                "  ratio {} / {}: per invocation {inv:.3}×, wall {wall:.3}×, cold start {cold:.3}×",
                self.candidates[0].label, self.candidates[1].label
            );
        }
    }
}
