//! One process of a Lambda binary behind its own Runtime API on loopback, driven one event at a
//! time: what the bench and the runtime's tests run a handler binary with.
//!
//! It is the emulator's own machinery ([`RuntimeApi`], [`Dispatch`], [`WorkerProcess`]) without
//! the pool around it: one process, no restart. The process runs until [`Function::kill`], until
//! it exits, or until an invocation passes the function timeout (it is then killed); from then on
//! every invocation fails as [`Failure::Unavailable`]. It prints no line per invocation and does
//! not busy-poll, so a measuring driver adds as little as it can to each invocation.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use socket_emulator::{Function, FunctionConfig, Outcome, ProcessOutput};
//!
//! let config = FunctionConfig {
//!     arn: "arn:aws:lambda:us-east-1:000000000000:function:echo".into(),
//!     timeout: std::time::Duration::from_secs(3),
//!     environment: vec![("AWS_REGION".into(), "us-east-1".into())],
//!     working_dir: std::env::temp_dir(),
//! };
//! let function = Function::start("echo", &["target/debug/echo".into()], config, ProcessOutput::Prefixed).await?;
//! match function.invoke(&serde_json::json!({"requestContext": {}})).await {
//!     Outcome::Response(body) => println!("{}", String::from_utf8_lossy(&body)),
//!     Outcome::Failed(failure) => println!("failed: {failure}"),
//! }
//! function.kill().await;
//! # Ok(())
//! # }
//! ```

use std::ffi::OsString;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::dispatch::Dispatch;
use super::invocation::{Failure, FunctionConfig, Invocation, Invoked, Outcome};
use super::process::{Ended, ProcessOutput, WorkerProcess};
use super::runtime_api::RuntimeApi;

/// A running process of a Lambda binary and the Runtime API it polls.
pub struct Function {
    api: Arc<RuntimeApi>,
    dispatch: Arc<Dispatch>,
    pid: Option<u32>,
    spawned: Instant,
    /// How the process ended, once it has.
    ended: watch::Receiver<Option<String>>,
    kill: Option<oneshot::Sender<()>>,
    supervisor: JoinHandle<()>,
}

impl Function {
    /// Starts `command` (the binary, or a program it runs under followed by its arguments, e.g.
    /// `valgrind --tool=callgrind BINARY`) with `config`'s environment and
    /// `AWS_LAMBDA_RUNTIME_API` naming a fresh loopback port. `name` prefixes what is printed.
    pub async fn start(
        name: &str,
        command: &[OsString],
        config: FunctionConfig,
        output: ProcessOutput,
    ) -> std::io::Result<Self> {
        let config = Arc::new(config);
        let dispatch = Arc::new(Dispatch::default());
        let api = RuntimeApi::new(
            name.to_string(),
            Arc::clone(&config),
            Arc::clone(&dispatch),
            None,
        );
        let process = WorkerProcess::start(&api, command, &config, output).await?;
        let (pid, spawned) = (process.id(), process.spawned);
        let (ended_tx, ended) = watch::channel(None);
        let (kill, killed) = oneshot::channel();
        let supervisor = tokio::spawn(supervise(
            process,
            Arc::clone(&api),
            Arc::clone(&dispatch),
            config,
            killed,
            ended_tx,
        ));
        Ok(Self {
            api,
            dispatch,
            pid,
            spawned,
            ended,
            kill: Some(kill),
            supervisor,
        })
    }

    /// Queues `event` now (events run in the order they are submitted); the future waits for
    /// how it ended.
    pub fn submit(&self, event: Bytes) -> impl Future<Output = Invoked> + Send + 'static {
        let (reply, invoked) = oneshot::channel();
        // A closed dispatch drops the invocation, and with it the reply: unavailable.
        let _ = self.dispatch.submit(Invocation {
            event,
            route: String::new(),
            connection_id: String::new(),
            reply,
        });
        async move { invoked.await.unwrap_or_else(|_| Invoked::unavailable()) }
    }

    /// Runs one event and returns how it ended.
    pub async fn invoke(&self, event: &serde_json::Value) -> Outcome {
        self.submit(Bytes::from(event.to_string())).await.outcome
    }

    /// When the process was spawned.
    pub fn spawned_at(&self) -> Instant {
        self.spawned
    }

    /// When the process first asked for an event (its cold start ended); `None` when it ended
    /// before it did.
    pub async fn first_poll(&self) -> Option<Instant> {
        tokio::select! {
            biased;
            at = self.api.first_poll() => Some(at),
            _ = self.ended() => None,
        }
    }

    /// Waits until the process has ended; how it did (`exit status: 1`, `killed`, ...).
    pub async fn ended(&self) -> String {
        let mut ended = self.ended.clone();
        let result = ended.wait_for(Option::is_some).await;
        match result {
            Ok(status) => status.clone().unwrap_or_default(),
            Err(_) => "ended".to_string(),
        }
    }

    /// Whether the process has ended (as far as is known now).
    pub fn has_ended(&self) -> bool {
        self.ended.borrow().is_some()
    }

    /// The process id, to signal it (e.g. SIGTERM so a profiler writes its results).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Kills the process (if it still runs) and waits until it is gone.
    pub async fn kill(mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        let _ = (&mut self.supervisor).await;
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        // The process is killed on drop of its handle inside the supervisor.
        self.supervisor.abort();
    }
}

/// Runs the process until it exits, times out or is killed; then fails what is left.
async fn supervise(
    mut process: WorkerProcess,
    api: Arc<RuntimeApi>,
    dispatch: Arc<Dispatch>,
    config: Arc<FunctionConfig>,
    mut killed: oneshot::Receiver<()>,
    ended: watch::Sender<Option<String>>,
) {
    let (failure, how) = tokio::select! {
        end = process.ended(&api) => match end {
            Ended::Exited(status) => (Failure::Crashed(status.clone()), status),
            Ended::TimedOut => (
                Failure::Timeout(config.timeout),
                format!("killed: an invocation ran past the {}s timeout", config.timeout.as_secs_f64()),
            ),
        },
        _ = &mut killed => (Failure::Crashed("killed".into()), "killed".to_string()),
    };
    process.stop().await;
    api.fail_running(failure);
    dispatch.close();
    ended.send_replace(Some(how));
}
