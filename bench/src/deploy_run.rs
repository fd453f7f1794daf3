//! `socket-bench deploy-step`: runs one `socket deploy` (or any command logging its AWS calls as
//! `aws call service.Operation`, which `SOCKET_LOG=debug` turns on), timing it and counting the
//! calls of each kind.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::process::Command;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployStepReport {
    pub kind: String,
    pub label: String,
    pub step: String,
    pub success: bool,
    pub wall_s: f64,
    pub calls: BTreeMap<String, usize>,
    pub total_calls: usize,
    pub write_calls: usize,
}

/// Every `aws call service.Operation` line of a log, as `service.Operation`.
pub fn aws_calls(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| line.split("aws call ").nth(1))
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                .collect::<String>()
        })
        .filter(|call| !call.is_empty())
        .collect()
}

/// Whether an operation changes state (anything but Get*, List*, Describe*).
pub fn is_write(call: &str) -> bool {
    let operation = call.rsplit('.').next().unwrap_or(call);
    !["Get", "List", "Describe"]
        .iter()
        .any(|read| operation.starts_with(read))
}

pub async fn run(
    label: &str,
    step: &str,
    command: &[String],
) -> std::io::Result<(DeployStepReport, String)> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| std::io::Error::other("no command given"))?;
    let started = Instant::now();
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await?;
    let wall_s = started.elapsed().as_secs_f64();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let calls = aws_calls(&log);
    let mut counts = BTreeMap::new();
    for call in &calls {
        *counts.entry(call.clone()).or_insert(0) += 1;
    }
    let report = DeployStepReport {
        kind: "deploy".into(),
        label: label.into(),
        step: step.into(),
        success: output.status.success(),
        wall_s,
        total_calls: calls.len(),
        write_calls: calls.iter().filter(|call| is_write(call)).count(),
        calls: counts,
    };
    Ok((report, log))
}

impl DeployStepReport {
    pub fn print(&self) {
        println!(
            "deploy {label} {step}: {ok} in {wall:.2}s, {total} AWS calls ({writes} writes)",
            label = self.label,
            step = self.step,
            ok = if self.success { "succeeded" } else { "FAILED" },
            wall = self.wall_s,
            total = self.total_calls,
            writes = self.write_calls,
        );
        for (call, count) in &self.calls {
            println!(
                "  {count:>3} {call}{}",
                if is_write(call) { "  (write)" } else { "" }
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_calls_from_debug_lines() {
        let log = "2026 DEBUG socket::aws: aws call lambda.GetFunction\n\
                   noise\n\
                   DEBUG socket::aws: aws call lambda.UpdateFunctionCode extra=1\n\
                   {\"fields\":{\"message\":\"aws call iam.GetRole\"}}\n";
        assert_eq!(
            aws_calls(log),
            [
                "lambda.GetFunction",
                "lambda.UpdateFunctionCode",
                "iam.GetRole"
            ]
        );
        assert!(!is_write("lambda.GetFunction"));
        assert!(!is_write("iam.ListAttachedRolePolicies"));
        assert!(is_write("lambda.UpdateFunctionCode"));
    }
}
