//! The pool of worker processes: the user's handler binary, run as Lambda runs it ([`process`]).
//!
//! [`process`]: super::process
//!
//! Each worker slot keeps one process alive. A process handles one invocation at a time (it asks
//! for the next only after answering the last), is killed and replaced when an invocation runs
//! past the function timeout, and is replaced when it crashes. When the binary is rebuilt every
//! slot starts a process of the new binary and lets the old one finish what it is running.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::busy_poll::{self, BusyPoll};
use super::dispatch::Dispatch;
use super::invocation::{Failure, FunctionConfig, Invocation, Outcome};
use super::output;
use super::process::{Ended, ProcessOutput, WorkerProcess};
use super::runtime_api::RuntimeApi;

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
            match outcome.await {
                Ok(invoked) => invoked.outcome,
                Err(_) => Outcome::Failed(Failure::Unavailable),
            }
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
    ByItself(Ended),
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
            Some(Arc::clone(&busy)),
        );
        let command = [path.clone().into_os_string()];
        let mut process =
            match WorkerProcess::start(&api, &command, &function, ProcessOutput::Prefixed).await {
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
        let end = tokio::select! {
            ended = process.ended(&api) => End::ByItself(ended),
            changed = binary.changed() => if changed.is_ok() { End::Replaced } else { End::Shutdown },
            _ = shutdown.changed() => End::Shutdown,
        };
        match end {
            End::ByItself(Ended::Exited(status)) => {
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
            End::ByItself(Ended::TimedOut) => {
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
        if process.exits_within(Duration::from_millis(10)).await {
            break;
        }
    }
    process.stop().await;
    api.fail_running(Failure::Timeout(timeout));
}
