//! `socket-bench report`: turns the JSON lines the other subcommands append into the tables of
//! BENCHMARKS.md — medians over repeated runs, and the subject's ratio to the best peer of the same
//! run set.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::broadcast::BroadcastReport;
use crate::deploy_run::DeployStepReport;
use crate::echo_load::EchoReport;
use crate::edit_loop::EditLoopReport;
use crate::hold::HoldReport;
use crate::instructions::InstructionsReport;
use crate::runtime_bench::RuntimeReport;
use crate::stats::median;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ZipReport {
    pub kind: String,
    pub label: String,
    pub arch: String,
    pub bytes: u64,
}

/// Every record of a results file, by kind.
#[derive(Default)]
pub struct Results {
    pub echo: Vec<EchoReport>,
    pub hold: Vec<HoldReport>,
    pub runtime: Vec<RuntimeReport>,
    pub zip: Vec<ZipReport>,
    pub deploy: Vec<DeployStepReport>,
    pub instructions: Vec<InstructionsReport>,
    pub broadcast: Vec<BroadcastReport>,
    pub edit_loop: Vec<EditLoopReport>,
}

impl Results {
    /// Parses JSON lines; lines of unknown kinds or bad JSON are reported and skipped.
    pub fn parse(text: &str) -> (Self, Vec<String>) {
        let mut results = Results::default();
        let mut skipped = Vec::new();
        for (number, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let kind = serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v["kind"].as_str().map(str::to_owned));
            let parsed = match kind.as_deref() {
                Some("echo") => serde_json::from_str(line).map(|r| results.echo.push(r)),
                Some("hold") => serde_json::from_str(line).map(|r| results.hold.push(r)),
                Some("runtime") => serde_json::from_str(line).map(|r| results.runtime.push(r)),
                Some("zip") => serde_json::from_str(line).map(|r| results.zip.push(r)),
                Some("deploy") => serde_json::from_str(line).map(|r| results.deploy.push(r)),
                Some("instructions") => {
                    serde_json::from_str(line).map(|r| results.instructions.push(r))
                }
                Some("broadcast") => serde_json::from_str(line).map(|r| results.broadcast.push(r)),
                Some("edit-loop") => serde_json::from_str(line).map(|r| results.edit_loop.push(r)),
                _ => {
                    skipped.push(format!("line {}: no known kind", number + 1));
                    continue;
                }
            };
            if let Err(error) = parsed {
                skipped.push(format!("line {}: {error}", number + 1));
            }
        }
        (results, skipped)
    }

    /// Markdown tables; `subject` is the label whose ratio to the peers is computed.
    pub fn render(&self, subject: &str) -> String {
        let mut out = String::new();
        self.render_echo(subject, &mut out);
        self.render_hold(&mut out);
        self.render_runtime(&mut out);
        self.render_instructions(&mut out);
        self.render_zip(&mut out);
        self.render_deploy(&mut out);
        self.render_broadcast(&mut out);
        self.render_edit_loop(&mut out);
        out
    }

    fn render_broadcast(&self, out: &mut String) {
        if self.broadcast.is_empty() {
            return;
        }
        let _ = writeln!(out, "### Broadcast\n\n| run | opened | joins/s (call p50 / p99 ms) | delivered | last member after ms | p50 member ms | leaves/s | RSS idle MiB | RSS joined MiB | RSS peak MiB |\n|---|---|---|---|---|---|---|---|---|---|");
        let mib = |kib: Option<u64>| {
            kib.map(|k| format!("{:.1}", k as f64 / 1024.0))
                .unwrap_or_else(|| "—".into())
        };
        for (n, run) in self.broadcast.iter().enumerate() {
            let _ = writeln!(
                out,
                "| {} | {}/{} in {:.1} s | {:.0} ({:.1} / {:.1}) | {}/{} | {:.0} | {:.0} | {:.0} | {} | {} | {} |",
                n + 1,
                run.opened,
                run.requested,
                run.open_s,
                run.join.per_second,
                run.join.call.p50_ms,
                run.join.call.p99_ms,
                run.delivered,
                run.members,
                run.last_ms,
                run.arrival.p50_ms,
                run.leave.per_second,
                mib(run.rss_idle_kib),
                mib(run.rss_joined_kib),
                mib(run.rss_peak_kib),
            );
        }
        out.push('\n');
    }

    fn render_edit_loop(&self, out: &mut String) {
        if self.edit_loop.is_empty() {
            return;
        }
        let _ = writeln!(out, "### Save → new code served (`socket dev`)\n\n| workers | edits | served s (median) | each edit s | rebuild starts ms (median) | workers replaced s (median) |\n|---|---|---|---|---|---|");
        for run in &self.edit_loop {
            let each: Vec<String> = run
                .edits
                .iter()
                .map(|e| format!("{:.2}", e.served_ms / 1000.0))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} | {} | {:.0} | {:.2} |",
                run.worker_target,
                run.edits.len(),
                run.median_served_ms / 1000.0,
                each.join(", "),
                run.median_rebuilding_ms,
                run.median_replaced_ms / 1000.0,
            );
        }
        out.push('\n');
    }

    fn render_echo(&self, subject: &str, out: &mut String) {
        let mut loads: BTreeMap<(usize, usize), BTreeMap<String, Vec<&EchoReport>>> =
            BTreeMap::new();
        for run in &self.echo {
            loads
                .entry((run.connections, run.messages_per_connection))
                .or_default()
                .entry(run.label.clone())
                .or_default()
                .push(run);
        }
        for ((connections, messages), by_label) in loads {
            let _ = writeln!(out, "### Echo {connections}×{messages}\n");
            let _ = writeln!(out, "| server | runs | echoed (median) | throughput msg/s | latency p50 ms | latency p99 ms | connect p50 ms | connect p99 ms | errors |");
            let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
            let mut medians = BTreeMap::new();
            for (label, runs) in &by_label {
                let m = |f: fn(&EchoReport) -> f64| {
                    median(&runs.iter().map(|r| f(r)).collect::<Vec<_>>())
                };
                let (tp, l50, l99) = (
                    m(|r| r.throughput_msg_s),
                    m(|r| r.latency.p50_ms),
                    m(|r| r.latency.p99_ms),
                );
                let limited = runs.iter().any(|r| r.hit_time_limit);
                let _ = writeln!(
                    out,
                    "| {label} | {runs} | {echoed:.0}{limit} | {tp:.0} | {l50:.3} | {l99:.3} | {c50:.2} | {c99:.2} | {errors} |",
                    runs = runs.len(),
                    echoed = m(|r| r.echoed as f64),
                    limit = if limited { " (time limit)" } else { "" },
                    c50 = m(|r| r.connect.p50_ms),
                    c99 = m(|r| r.connect.p99_ms),
                    errors = runs.iter().map(|r| r.errors).sum::<usize>(),
                );
                medians.insert(label.clone(), (tp, l99));
            }
            if let Some(&(tp, l99)) = medians.get(subject) {
                let best_tp = medians
                    .iter()
                    .filter(|(l, _)| *l != subject)
                    .map(|(l, v)| (l, v.0))
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                let best_p99 = medians
                    .iter()
                    .filter(|(l, _)| *l != subject)
                    .map(|(l, v)| (l, v.1))
                    .min_by(|a, b| a.1.total_cmp(&b.1));
                if let (Some((tp_peer, peer_tp)), Some((p99_peer, peer_p99))) = (best_tp, best_p99)
                {
                    let _ = writeln!(
                        out,
                        "\n{subject} vs best peer: throughput {:.1}× {tp_peer}'s; latency p99 1/{:.1} of {p99_peer}'s",
                        tp / peer_tp,
                        peer_p99 / l99,
                    );
                }
            }
            out.push('\n');
        }
    }

    fn render_hold(&self, out: &mut String) {
        if self.hold.is_empty() {
            return;
        }
        let _ = writeln!(out, "### Connections held at once\n");
        let _ = writeln!(out, "| server | requested | opened | still open after hold | opened in s | connect p99 ms | processes | RSS idle MiB | RSS holding MiB | KiB per connection |");
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
        for run in &self.hold {
            let mib = |kib: Option<u64>| {
                kib.map(|k| format!("{:.1}", k as f64 / 1024.0))
                    .unwrap_or("–".into())
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {:.2} | {:.1} | {} | {} | {} | {} |",
                run.label,
                run.requested,
                run.opened,
                run.still_open,
                run.open_s,
                run.connect.p99_ms,
                run.server_processes
                    .map(|p| p.to_string())
                    .unwrap_or("–".into()),
                mib(run.rss_idle_kib),
                mib(run.rss_held_kib),
                run.rss_per_connection_kib
                    .map(|k| format!("{k:.1}"))
                    .unwrap_or("–".into()),
            );
        }
        out.push('\n');
    }

    fn render_runtime(&self, out: &mut String) {
        for run in &self.runtime {
            let _ = writeln!(
                out,
                "### Runtime: {} invocations per binary ({} alternating rounds), {} cold starts each\n",
                run.invocations, run.rounds, run.cold_starts
            );
            let _ = writeln!(out, "| binary | per invocation p50 µs | p99 µs | wall µs/invocation | cold start p50 ms | p99 ms | binary MB | failed | wrong echoes |");
            let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
            for c in &run.candidates {
                let _ = writeln!(
                    out,
                    "| {} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} | {:.2} | {} | {} |",
                    c.label,
                    c.invocation.p50_ms * 1000.0,
                    c.invocation.p99_ms * 1000.0,
                    c.wall_per_invocation_us,
                    c.cold_start.p50_ms,
                    c.cold_start.p99_ms,
                    c.binary_bytes as f64 / 1e6,
                    c.failed,
                    c.echo_mismatches,
                );
            }
            if let (Some(inv), Some(wall), Some(cold)) = (
                run.invocation_p50_ratio,
                run.wall_ratio,
                run.cold_start_ratio,
            ) {
                let _ = writeln!(
                    out,
                    "\nratio {} / {}: per invocation p50 {inv:.3}×, wall {wall:.3}×, cold start p50 {cold:.3}×",
                    run.candidates[0].label, run.candidates[1].label
                );
            }
            out.push('\n');
        }
    }

    fn render_instructions(&self, out: &mut String) {
        for run in &self.instructions {
            let _ = writeln!(
                out,
                "### Runtime: instructions per invocation (callgrind, {} invocations)\n\n| binary | instructions per invocation | start-up + first invocation |\n|---|---|---|",
                run.invocations
            );
            for ((label, first), per) in run
                .labels
                .iter()
                .zip(&run.startup_and_first)
                .zip(&run.per_invocation)
            {
                let _ = writeln!(out, "| {label} | {per:.0} | {first} |");
            }
            if let Some(ratio) = run.ratio {
                let _ = writeln!(
                    out,
                    "\nratio {} / {}: {ratio:.3}×",
                    run.labels[0], run.labels[1]
                );
            }
            out.push('\n');
        }
    }

    fn render_zip(&self, out: &mut String) {
        if self.zip.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "### Zip size\n\n| binary | architecture | zip MB |\n|---|---|---|"
        );
        for z in &self.zip {
            let _ = writeln!(
                out,
                "| {} | {} | {:.3} |",
                z.label,
                z.arch,
                z.bytes as f64 / 1e6
            );
        }
        out.push('\n');
    }

    fn render_deploy(&self, out: &mut String) {
        if self.deploy.is_empty() {
            return;
        }
        let _ = writeln!(out, "### Deploy\n\n| step | runs | wall s (median) | AWS calls | writes | ok |\n|---|---|---|---|---|---|");
        let mut steps: Vec<(&str, Vec<&DeployStepReport>)> = Vec::new();
        for run in &self.deploy {
            match steps.iter_mut().find(|(step, _)| *step == run.step) {
                Some((_, runs)) => runs.push(run),
                None => steps.push((&run.step, vec![run])),
            }
        }
        for (step, runs) in &steps {
            let m = |f: fn(&DeployStepReport) -> f64| {
                median(&runs.iter().map(|r| f(r)).collect::<Vec<_>>())
            };
            let _ = writeln!(
                out,
                "| {step} | {} | {:.2} | {:.0} | {:.0} | {}/{} |",
                runs.len(),
                m(|r| r.wall_s),
                m(|r| r.total_calls as f64),
                m(|r| r.write_calls as f64),
                runs.iter().filter(|r| r.success).count(),
                runs.len(),
            );
        }
        for (step, runs) in &steps {
            if let Some(run) = runs.first() {
                let calls: Vec<String> = run
                    .calls
                    .iter()
                    .map(|(call, n)| format!("{call}×{n}"))
                    .collect();
                let _ = writeln!(out, "\n{step} (first run): {}", calls.join(", "));
            }
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Summary;

    fn echo(label: &str, throughput: f64, p99: f64) -> String {
        let report = EchoReport {
            kind: "echo".into(),
            label: label.into(),
            url: "ws://x".into(),
            connections: 1,
            messages_per_connection: 2000,
            connected: 1,
            echoed: 2000,
            errors: 0,
            first_error: None,
            hit_time_limit: false,
            elapsed_s: 1.0,
            throughput_msg_s: throughput,
            latency: Summary {
                count: 2000,
                p50_ms: p99 / 2.0,
                p99_ms: p99,
                max_ms: p99,
                mean_ms: p99,
            },
            connect: Summary::default(),
        };
        serde_json::to_string(&report).unwrap()
    }

    #[test]
    fn ratio_against_the_best_peer_uses_medians() {
        let lines = [
            echo("socket", 5000.0, 0.5),
            echo("socket", 7000.0, 0.4),
            echo("socket", 6000.0, 0.6),
            echo("sls", 300.0, 10.0),
            echo("arc", 8.0, 200.0),
            "not json".to_string(),
        ]
        .join("\n");
        let (results, skipped) = Results::parse(&lines);
        assert_eq!(results.echo.len(), 5);
        assert_eq!(skipped.len(), 1);
        let text = results.render("socket");
        assert!(text.contains("throughput 20.0× sls's"), "{text}");
        assert!(text.contains("latency p99 1/20.0 of sls's"), "{text}");
    }

    #[test]
    fn broadcast_and_edit_loop_records_become_tables() {
        let throughput = |per_second: f64| crate::registry_load::ThroughputReport {
            calls: 10_000,
            failed: 0,
            first_error: None,
            seconds: 10_000.0 / per_second,
            per_second,
            call: Summary::default(),
        };
        let broadcast = BroadcastReport {
            kind: "broadcast".into(),
            label: "socket".into(),
            requested: 10_000,
            opened: 10_000,
            open_failed: 0,
            first_open_error: None,
            open_s: 12.5,
            registered: 10_000,
            join: throughput(2500.0),
            members: 10_000,
            delivered: 9_999,
            arrival: Summary::default(),
            last_ms: 1234.0,
            leave: throughput(3000.0),
            server_processes: Some(5),
            rss_idle_kib: Some(30 * 1024),
            rss_joined_kib: Some(300 * 1024),
            rss_peak_kib: None,
        };
        let edits = EditLoopReport {
            kind: "edit-loop".into(),
            label: "socket".into(),
            worker_target: "host".into(),
            edits: [1500.0, 1250.0, 1300.0]
                .iter()
                .map(|&served_ms| crate::edit_loop::EditTimes {
                    rebuilding_ms: 100.0,
                    replaced_ms: served_ms - 5.0,
                    served_ms,
                })
                .collect(),
            median_served_ms: 1300.0,
            median_rebuilding_ms: 100.0,
            median_replaced_ms: 1295.0,
        };
        let lines = [
            serde_json::to_string(&broadcast).unwrap(),
            serde_json::to_string(&edits).unwrap(),
        ]
        .join("\n");
        let (results, skipped) = Results::parse(&lines);
        assert!(skipped.is_empty(), "{skipped:?}");
        let text = results.render("socket");
        assert!(
            text.contains("| 1 | 10000/10000 in 12.5 s | 2500 (0.0 / 0.0) | 9999/10000 | 1234 | 0 | 3000 | 30.0 | 300.0 | — |"),
            "{text}"
        );
        assert!(
            text.contains("| host | 3 | 1.30 | 1.50, 1.25, 1.30 | 100 | 1.29 |"),
            "{text}"
        );
    }
}
