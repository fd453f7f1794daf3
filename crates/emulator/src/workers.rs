//! The pool of worker processes: the user's handler binary, run as Lambda runs it.
//!
//! Each worker slot keeps one process alive. A process handles one invocation at a time (it asks
//! for the next only after answering the last), is killed and replaced when an invocation runs
//! past the function timeout, and is replaced when it crashes. When the binary is rebuilt every
//! slot starts a process of the new binary and lets the old one finish what it is running.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::busy_poll::{self, BusyPoll};
use super::dispatch::Dispatch;
use super::output;
use super::runtime_api::RuntimeApi;

/// What the worker processes are started with.
#[derive(Clone, Debug)]
pub struct FunctionConfig {
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub arn: String,
    /// The function timeout: an invocation running longer gets its process killed.
    pub timeout: Duration,
    /// The complete environment of a worker (the emulator adds `AWS_LAMBDA_RUNTIME_API`).
    pub environment: Vec<(String, String)>,
    /// The working directory of the workers.
    pub working_dir: PathBuf,
}

/// One event for the function, and where its result goes.
pub struct Invocation {
    /// The event JSON, as the function receives it.
    pub event: Bytes,
    /// Route key and connection id, shown with the worker's output while it runs.
    pub route: String,
    pub connection_id: String,
    pub reply: oneshot::Sender<Outcome>,
}

/// How an invocation ended.
#[derive(Debug)]
pub enum Outcome {
    /// The function's response document.
    Response(Bytes),
    Failed(Failure),
}

/// Why an invocation produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The function reported an error (`/invocation/{id}/error`).
    Error { error_type: String, message: String },
    /// The invocation ran past the function timeout; its process was killed.
    Timeout(Duration),
    /// The process exited while running the invocation.
    Crashed(String),
    /// The emulator is stopping and no worker took the invocation.
    Unavailable,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Error {
                error_type,
                message,
            } => write!(f, "{error_type}: {message}"),
            Failure::Timeout(timeout) => {
                write!(
                    f,
                    "Task timed out after {:.2} seconds",
                    timeout.as_secs_f64()
                )
            }
            Failure::Crashed(status) => write!(f, "Runtime exited ({status})"),
            Failure::Unavailable => write!(f, "no worker is available"),
        }
    }
}

/// The pool: hands invocations to idle workers and keeps every slot's process alive.
pub struct Pool {
    dispatch: Arc<Dispatch>,
    busy: Arc<BusyPoll>,
    binary: watch::Sender<PathBuf>,
    shutdown: watch::Sender<bool>,
    supervisors: Mutex<Vec<JoinHandle<()>>>,
}

impl Pool {
    /// Starts `workers` processes of `binary`.
    pub fn start(function: FunctionConfig, binary: PathBuf, workers: usize) -> Arc<Self> {
        let function = Arc::new(function);
        let dispatch = Arc::new(Dispatch::default());
        let busy = BusyPoll::start(busy_poll::QUIET);
        let (binary, _) = watch::channel(binary);
        let (shutdown, _) = watch::channel(false);
        let supervisors = (1..=workers.max(1))
            .map(|index| {
                tokio::spawn(supervise(
                    format!("worker {index}"),
                    Arc::clone(&function),
                    Arc::clone(&dispatch),
                    Arc::clone(&busy),
                    binary.subscribe(),
                    shutdown.subscribe(),
                ))
            })
            .collect();
        Arc::new(Self {
            dispatch,
            busy,
            binary,
            shutdown,
            supervisors: Mutex::new(supervisors),
        })
    }

    /// Queues one event for the function now (invocations start in the order they are
    /// submitted); the returned future waits for its outcome.
    pub fn submit(
        &self,
        event: Bytes,
        route: &str,
        connection_id: &str,
    ) -> impl std::future::Future<Output = Outcome> + Send + 'static {
        let (reply, outcome) = oneshot::channel();
        let invocation = Invocation {
            event,
            route: route.to_string(),
            connection_id: connection_id.to_string(),
            reply,
        };
        self.busy.touch();
        let queued = self.dispatch.submit(invocation).is_ok();
        async move {
            if !queued {
                return Outcome::Failed(Failure::Unavailable);
            }
            outcome
                .await
                .unwrap_or(Outcome::Failed(Failure::Unavailable))
        }
    }

    /// Replaces every worker with a process of `binary`; running invocations finish first.
    pub fn replace_binary(&self, binary: PathBuf) {
        self.binary.send_replace(binary);
    }

    /// Lets running invocations finish, then stops every worker process.
    pub async fn shutdown(&self) {
        self.shutdown.send_replace(true);
        let supervisors = std::mem::take(&mut *self.supervisors.lock().expect("supervisors lock"));
        for supervisor in supervisors {
            let _ = supervisor.await;
        }
        self.dispatch.close();
    }
}

/// How one worker process ended.
enum End {
    Exited(std::io::Result<ExitStatus>),
    TimedOut,
    Replaced,
    Shutdown,
}

/// Keeps one worker slot's process alive until the pool shuts down.
async fn supervise(
    name: String,
    function: Arc<FunctionConfig>,
    dispatch: Arc<Dispatch>,
    busy: Arc<BusyPoll>,
    mut binary: watch::Receiver<PathBuf>,
    mut shutdown: watch::Receiver<bool>,
) {
    const FIRST_BACKOFF: Duration = Duration::from_millis(250);
    let mut backoff = FIRST_BACKOFF;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let path = binary.borrow_and_update().clone();
        let api = RuntimeApi::new(
            name.clone(),
            Arc::clone(&function),
            Arc::clone(&dispatch),
            Arc::clone(&busy),
        );
        let mut process = match WorkerProcess::start(&api, &path, &function).await {
            Ok(process) => process,
            Err(error) => {
                output::line(
                    &name,
                    &format!("could not start {}: {error}", path.display()),
                );
                if !pause(backoff, &mut shutdown).await {
                    return;
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        let started = Instant::now();
        let mut deadline = api.deadline();
        let end = loop {
            let current = deadline.borrow_and_update().clone();
            let wake = current
                .as_ref()
                .map_or_else(|| Instant::now() + Duration::from_secs(3600), |(_, at)| *at);
            tokio::select! {
                status = process.child.wait() => break End::Exited(status),
                _ = deadline.changed() => continue,
                _ = tokio::time::sleep_until(wake.into()), if current.is_some() => {
                    let (request_id, _) = current.expect("guarded by the branch condition");
                    if api.is_running(&request_id) {
                        break End::TimedOut;
                    }
                }
                changed = binary.changed() => break if changed.is_ok() { End::Replaced } else { End::Shutdown },
                _ = shutdown.changed() => break End::Shutdown,
            }
        };
        match end {
            End::Exited(status) => {
                let status = describe_exit(status);
                process.stop().await;
                match api.fail_running(Failure::Crashed(status.clone())) {
                    Some((route, connection)) => output::line(
                        &name,
                        &format!("crashed ({status}) while running {route} {connection}; starting a new process"),
                    ),
                    None => output::line(&name, &format!("exited ({status}); starting a new process")),
                }
                // A binary that dies at start would otherwise be restarted in a tight loop.
                if !api.has_polled() || started.elapsed() < Duration::from_secs(1) {
                    if !pause(backoff, &mut shutdown).await {
                        return;
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                } else {
                    backoff = FIRST_BACKOFF;
                }
            }
            End::TimedOut => {
                process.stop().await;
                if let Some((route, connection)) =
                    api.fail_running(Failure::Timeout(function.timeout))
                {
                    output::line(
                        &name,
                        &format!(
                            "{route} {connection} timed out after {}s; process killed, starting a new one",
                            function.timeout.as_secs_f64()
                        ),
                    );
                }
            }
            End::Replaced => {
                tokio::spawn(retire(api, process, function.timeout));
            }
            End::Shutdown => {
                retire(api, process, function.timeout).await;
                return;
            }
        }
    }
}

/// Sleeps `duration` unless the pool shuts down first; false when it does.
async fn pause(duration: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(duration) => true,
        _ = shutdown.changed() => false,
    }
}

/// Stops a process once it has finished its running invocation (or its timeout passed).
async fn retire(api: Arc<RuntimeApi>, mut process: WorkerProcess, timeout: Duration) {
    api.drain();
    let give_up = Instant::now() + timeout + Duration::from_secs(1);
    while !api.is_idle() && Instant::now() < give_up {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
            _ = process.child.wait() => break,
        }
    }
    process.stop().await;
    api.fail_running(Failure::Timeout(timeout));
}

fn describe_exit(status: std::io::Result<ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(error) => format!("unknown status: {error}"),
    }
}

/// One running process of the handler binary, with its Runtime API and output pumps.
struct WorkerProcess {
    child: Child,
    server: JoinHandle<()>,
    pumps: Vec<JoinHandle<()>>,
}

impl WorkerProcess {
    async fn start(
        api: &Arc<RuntimeApi>,
        binary: &Path,
        function: &FunctionConfig,
    ) -> std::io::Result<Self> {
        let (address, server) = api.serve().await?;
        let mut command = Command::new(binary);
        command
            .env_clear()
            .envs(function.environment.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .current_dir(&function.working_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) => {
                server.abort();
                return Err(error);
            }
        };
        let mut pumps = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            pumps.push(tokio::spawn(pump(stdout, Arc::clone(api))));
        }
        if let Some(stderr) = child.stderr.take() {
            pumps.push(tokio::spawn(pump(stderr, Arc::clone(api))));
        }
        Ok(Self {
            child,
            server,
            pumps,
        })
    }

    /// Kills the process (if it still runs), waits for it, and flushes its remaining output.
    async fn stop(mut self) {
        let _ = self.child.kill().await;
        self.server.abort();
        for pump in self.pumps {
            let _ = tokio::time::timeout(Duration::from_secs(1), pump).await;
        }
    }
}

/// Prints a process's output line by line, prefixed with the worker and the running invocation.
async fn pump(stream: impl AsyncRead + Unpin, api: Arc<RuntimeApi>) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']);
                match api.running_label() {
                    Some(label) => output::line(&format!("{} {label}", api.name), text),
                    None => output::line(&api.name, text),
                }
            }
        }
    }
}
