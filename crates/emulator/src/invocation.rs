//! What a function is started with, one event for it, and how that event ended: shared by the
//! worker pool of `socket dev` and the single [`Function`](crate::Function) the bench and the
//! runtime's tests drive.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::oneshot;

/// What a function's processes are started with.
#[derive(Clone, Debug)]
pub struct FunctionConfig {
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub arn: String,
    /// The function timeout: an invocation running longer gets its process killed.
    pub timeout: Duration,
    /// The complete environment of a process (`AWS_LAMBDA_RUNTIME_API` is added to it).
    pub environment: Vec<(String, String)>,
    /// The working directory of the processes.
    pub working_dir: PathBuf,
}

/// One event for the function, and where its result goes.
pub struct Invocation {
    /// The event JSON, as the function receives it.
    pub event: Bytes,
    /// Route key and connection id, shown with the process's output while it runs.
    pub route: String,
    pub connection_id: String,
    pub reply: oneshot::Sender<Invoked>,
}

/// How an invocation ended, and when the process had it.
#[derive(Debug)]
pub struct Invoked {
    pub outcome: Outcome,
    /// When `/next` handed the event to the process (`None`: no process took it).
    pub handed_out: Option<Instant>,
    /// When the outcome was known: the response or error was posted, or the process failed.
    pub ended: Instant,
}

impl Invoked {
    /// An invocation no process took.
    pub fn unavailable() -> Self {
        Self {
            outcome: Outcome::Failed(Failure::Unavailable),
            handed_out: None,
            ended: Instant::now(),
        }
    }
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
    /// No process took the invocation (the emulator is stopping, or the process is gone).
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
