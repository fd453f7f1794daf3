//! A record of every AWS operation a command makes.
//!
//! Installed as an SDK interceptor on every client, so nothing escapes it (waiters' polls
//! included). Each call is logged at debug level (`SOCKET_LOG=debug` or `-v`) as
//! `aws call service.Operation`, which is what benchmarks and tests count; the totals tell
//! "no changes" runs (only reads) from runs that wrote something.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_lambda::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// Debug logging for the AWS commands: `-v`, or a filter in `SOCKET_LOG` (`SOCKET_LOG=debug`).
/// Does nothing if logging is already set up.
pub fn init_logging(verbose: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("SOCKET_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::new(spec),
        _ if verbose => EnvFilter::new("socket=debug,socket_cli=debug,socket_deploy=debug"),
        _ => return,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Log lines go around the step's spinner, not through it.
        .with_writer(|| socket_progress::StderrAroundProgress)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

#[derive(Clone, Debug, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<String>>>,
}

impl CallLog {
    /// Every call so far, as `service.Operation`, in order.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// How many calls of each operation.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for call in self.calls() {
            *counts.entry(call).or_insert(0) += 1;
        }
        counts
    }

    /// Calls that change something (create, update, delete, tag, ...).
    pub fn writes(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| is_write(operation_of(c)))
            .collect()
    }

    /// `12 calls (9 reads, 3 writes)`.
    pub fn summary(&self) -> String {
        let total = self.calls().len();
        let writes = self.writes().len();
        format!(
            "{total} AWS calls ({} reads, {writes} writes)",
            total - writes
        )
    }
}

fn operation_of(call: &str) -> &str {
    call.rsplit('.').next().unwrap_or(call)
}

/// Whether an operation name is one that changes state.
pub fn is_write(operation: &str) -> bool {
    const READS: &[&str] = &["Get", "List", "Describe", "Filter"];
    !READS.iter().any(|prefix| operation.starts_with(prefix))
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "socket::CallLog"
    }

    // Not `read_before_execution`: client interceptors run that before the operation's own
    // configuration (which holds its name) is in the bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let call = match cfg.load::<Metadata>() {
            Some(meta) => format!("{}.{}", meta.service().replace(' ', ""), meta.name()),
            None => "unknown.Unknown".to_owned(),
        };
        tracing::debug!(target: "socket::aws", "aws call {call}");
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes() {
        assert!(!is_write("GetFunction"));
        assert!(!is_write("ListAttachedRolePolicies"));
        assert!(!is_write("DescribeLogGroups"));
        assert!(!is_write("FilterLogEvents"));
        assert!(is_write("UpdateFunctionCode"));
        assert!(is_write("PutRolePolicy"));
        assert!(is_write("AddPermission"));
    }
}
