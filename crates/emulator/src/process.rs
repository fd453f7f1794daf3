//! One process of a handler binary, run as Lambda runs it: a clean environment with
//! `AWS_LAMBDA_RUNTIME_API` naming its own Runtime API, its output prefixed line by line (or
//! written to a file), killed when its running invocation passes the function timeout.

use std::ffi::OsString;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use super::invocation::FunctionConfig;
use super::output;
use super::runtime_api::RuntimeApi;

/// Where a process's stdout and stderr go.
#[derive(Debug)]
pub enum ProcessOutput {
    /// Line by line on this process's stdout, prefixed with the worker and its running invocation.
    Prefixed,
    /// Both into this file, as they come.
    File(std::fs::File),
}

/// How a process stopped serving by itself.
pub enum Ended {
    /// It exited (the status, described).
    Exited(String),
    /// Its running invocation passed the function timeout; the process still runs.
    TimedOut,
}

/// One running process, with its Runtime API server and output pumps.
pub struct WorkerProcess {
    child: Child,
    /// Just before the process was spawned.
    pub spawned: Instant,
    server: JoinHandle<()>,
    pumps: Vec<JoinHandle<()>>,
}

impl WorkerProcess {
    /// Serves `api` on a fresh loopback port and starts `command` (the binary, or a program it
    /// runs under followed by its arguments) against it.
    pub async fn start(
        api: &Arc<RuntimeApi>,
        command: &[OsString],
        function: &FunctionConfig,
        output: ProcessOutput,
    ) -> std::io::Result<Self> {
        let Some((program, args)) = command.split_first() else {
            return Err(std::io::Error::other("no program to start"));
        };
        let (address, server) = api.serve().await?;
        let mut process = Command::new(program);
        process
            .args(args)
            .env_clear()
            .envs(function.environment.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
            .current_dir(&function.working_dir)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        // A process group of its own: Ctrl-C in the terminal signals the whole foreground group,
        // and the workers must outlive it long enough to run `$disconnect` for every connection
        // `socket dev` closes on its way out (it stops them itself afterwards).
        #[cfg(unix)]
        process.process_group(0);
        match &output {
            ProcessOutput::Prefixed => process.stdout(Stdio::piped()).stderr(Stdio::piped()),
            ProcessOutput::File(file) => {
                process.stdout(file.try_clone()?).stderr(file.try_clone()?)
            }
        };
        let spawned = Instant::now();
        let mut child = match process.spawn() {
            Ok(child) => child,
            Err(error) => {
                server.abort();
                return Err(error);
            }
        };
        let pumps = [
            child
                .stdout
                .take()
                .map(|out| tokio::spawn(pump(out, Arc::clone(api)))),
            child
                .stderr
                .take()
                .map(|err| tokio::spawn(pump(err, Arc::clone(api)))),
        ];
        Ok(Self {
            child,
            spawned,
            server,
            pumps: pumps.into_iter().flatten().collect(),
        })
    }

    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// Waits until the process exits or its running invocation passes the function timeout.
    ///
    /// It sleeps until the deadline of the invocation it saw running, and checks again then: a
    /// steady stream of invocations wakes it once per timeout, not on every hand-out.
    pub async fn ended(&mut self, api: &RuntimeApi) -> Ended {
        loop {
            // Registered before the deadline is read, so a hand-out in between is not missed.
            let handed_out = api.handed_out();
            tokio::pin!(handed_out);
            handed_out.as_mut().enable();
            let running = api.running_deadline();
            let wake = running.as_ref().map(|(_, at)| *at);
            tokio::select! {
                status = self.child.wait() => return Ended::Exited(describe_exit(status)),
                _ = handed_out, if wake.is_none() => {}
                _ = tokio::time::sleep_until(wake.unwrap_or_else(Instant::now).into()), if wake.is_some() => {
                    let (request_id, _) = running.expect("guarded by the branch condition");
                    if api.is_running(&request_id) {
                        return Ended::TimedOut;
                    }
                }
            }
        }
    }

    /// Waits up to `limit` for the process to exit by itself; whether it did.
    pub async fn exits_within(&mut self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.child.wait()).await.is_ok()
    }

    /// Kills the process (if it still runs), waits for it, and flushes its remaining output.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        self.server.abort();
        for pump in self.pumps.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(1), pump).await;
        }
    }
}

impl Drop for WorkerProcess {
    /// A process dropped without [`stop`](Self::stop) is killed (`kill_on_drop`); its Runtime
    /// API must not outlive it.
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn describe_exit(status: std::io::Result<ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(error) => format!("unknown status: {error}"),
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
