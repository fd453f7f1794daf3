//! The pool of worker processes: the user's handler binary, run as Lambda runs it ([`process`]).
//!
//! [`process`]: super::process
//!
//! Lambda runs concurrent invocations side by side, one per execution environment, and creates
//! environments as they are needed. So does the pool: it starts with one worker, starts another
//! whenever an invocation has to wait and no started worker is on its way (up to a cap, 64 by
//! default: `--workers`), and retires a worker that has waited [`IDLE_RETIREMENT`] for work, down
//! to one. A process handles one invocation at a time (it asks for the next only after answering
//! the last), is killed and replaced when an invocation runs past the function timeout, and is
//! replaced when it crashes. When the binary is rebuilt every worker starts a process of the new
//! binary and lets the old one finish what it is running.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// How long a worker waits for an invocation before it is retired (the last one stays), as
/// Lambda reclaims idle execution environments.
pub const IDLE_RETIREMENT: Duration = Duration::from_secs(120);

/// The pool: hands invocations to idle workers, starts workers when invocations wait, and keeps
/// every worker's process alive.
pub struct Pool {
    function: Arc<FunctionConfig>,
    dispatch: Arc<Dispatch>,
    busy: Arc<BusyPoll>,
    binary: watch::Sender<PathBuf>,
    shutdown: watch::Sender<bool>,
    supervisors: Mutex<Vec<JoinHandle<()>>>,
    scale: Arc<Scale>,
}

/// How many workers there are, and may be.
struct Scale {
    cap: usize,
    /// Workers whose supervisor runs.
    live: AtomicUsize,
    /// Workers started for waiting invocations whose process has not asked for one yet.
    starting: AtomicUsize,
    /// Numbers the workers (`worker 3`) in the order they were started.
    started: AtomicUsize,
}

impl Scale {
    /// Counts one more worker, unless the cap is reached.
    fn add(&self) -> bool {
        self.live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |live| {
                (live < self.cap).then_some(live + 1)
            })
            .is_ok()
    }

    /// Counts one worker less, unless it is the last.
    fn remove_unless_last(&self) -> bool {
        self.live
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |live| {
                (live > 1).then(|| live - 1)
            })
            .is_ok()
    }
}

/// Uncounts a worker started for waiting invocations once its process asks for one (or ends).
struct Starting(Arc<Scale>);

impl Drop for Starting {
    fn drop(&mut self) {
        self.0.starting.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Pool {
    /// Starts one worker of `binary`; more start on demand, up to `cap`.
    pub fn start(function: FunctionConfig, binary: PathBuf, cap: usize) -> Arc<Self> {
        let pool = Arc::new(Self {
            function: Arc::new(function),
            dispatch: Arc::new(Dispatch::default()),
            busy: BusyPoll::start(busy_poll::QUIET),
            binary: watch::channel(binary).0,
            shutdown: watch::channel(false).0,
            supervisors: Mutex::new(Vec::new()),
            scale: Arc::new(Scale {
                cap: cap.max(1),
                live: AtomicUsize::new(0),
                starting: AtomicUsize::new(0),
                started: AtomicUsize::new(0),
            }),
        });
        pool.add_worker(None);
        pool
    }

    /// Starts one more worker unless the cap is reached or the pool is stopping.
    fn add_worker(&self, starting: Option<Starting>) {
        if *self.shutdown.borrow() || !self.scale.add() {
            return;
        }
        let number = self.scale.started.fetch_add(1, Ordering::SeqCst) + 1;
        let supervisor = tokio::spawn(supervise(
            format!("worker {number}"),
            Arc::clone(&self.function),
            Arc::clone(&self.dispatch),
            Arc::clone(&self.busy),
            Arc::clone(&self.scale),
            starting,
            self.binary.subscribe(),
            self.shutdown.subscribe(),
        ));
        let mut supervisors = self.supervisors.lock().expect("supervisors lock");
        supervisors.retain(|supervisor| !supervisor.is_finished());
        supervisors.push(supervisor);
    }

    /// An invocation waits: start a worker for it unless enough are on their way already.
    fn scale_out(&self, waiting: usize) {
        let claimed = self
            .scale
            .starting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |starting| {
                (starting < waiting).then_some(starting + 1)
            })
            .is_ok();
        if !claimed {
            return;
        }
        let starting = Starting(Arc::clone(&self.scale));
        if self.scale.live.load(Ordering::SeqCst) >= self.scale.cap {
            return; // `starting` drops: nothing is on its way
        }
        self.add_worker(Some(starting));
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
        let submitted = self.dispatch.submit(invocation);
        if let Ok(waiting) = submitted {
            if waiting > 0 {
                self.scale_out(waiting);
            }
        }
        async move {
            if submitted.is_err() {
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
    /// It waited [`IDLE_RETIREMENT`] for work and is not the last worker.
    Idle,
    Shutdown,
}

/// Keeps one worker's process alive until the pool shuts down or the worker is retired.
#[allow(clippy::too_many_arguments)]
async fn supervise(
    name: String,
    function: Arc<FunctionConfig>,
    dispatch: Arc<Dispatch>,
    busy: Arc<BusyPoll>,
    scale: Arc<Scale>,
    mut starting: Option<Starting>,
    mut binary: watch::Receiver<PathBuf>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut counted = Counted(Some(Arc::clone(&scale)));
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
        let end = loop {
            tokio::select! {
                ended = process.ended(&api) => break End::ByItself(ended),
                changed = binary.changed() => break if changed.is_ok() { End::Replaced } else { End::Shutdown },
                _ = shutdown.changed() => break End::Shutdown,
                // Ready: it no longer counts as on its way.
                _ = api.first_poll(), if starting.is_some() => starting = None,
                _ = tokio::time::sleep(IDLE_RETIREMENT / 4) => {
                    if api.idle_for().is_some_and(|idle| idle >= IDLE_RETIREMENT) && scale.remove_unless_last() {
                        break End::Idle;
                    }
                }
            }
        };
        starting = None;
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
            End::Idle => {
                output::line(&name, "idle; retired");
                retire(api, process, function.timeout).await;
                counted.0 = None; // already uncounted by `remove_unless_last`
                return;
            }
            End::Shutdown => {
                retire(api, process, function.timeout).await;
                return;
            }
        }
    }
}

/// Uncounts a worker whose supervisor ends (`None`: uncounted already).
struct Counted(Option<Arc<Scale>>);

impl Drop for Counted {
    fn drop(&mut self) {
        if let Some(scale) = &self.0 {
            scale.live.fetch_sub(1, Ordering::SeqCst);
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
