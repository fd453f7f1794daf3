//! `socket-bench`: the benchmarks of BENCHMARKS.md. Each subcommand prints its figures and, with
//! `--record FILE`, appends them as one JSON line that `socket-bench report FILE` tabulates.

mod broadcast;
mod deploy_run;
mod echo_load;
mod edit_loop;
mod hold;
mod instructions;
mod management_stand_in;
mod message;
mod open_files;
mod registry_load;
mod report;
mod rss;
mod runtime_bench;
mod stats;
mod websocket_event;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "socket-bench",
    about = "Benchmarks of socket against its peers and a bare baseline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// N connections × M echo messages, sequential per connection.
    Echo {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 1)]
        connections: usize,
        #[arg(long, default_value_t = 2000)]
        messages: usize,
        /// Longest wait for a handshake or an echo, in seconds.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
        /// Stop sending after this many seconds (slow servers then report what they finished).
        #[arg(long, default_value_t = 120)]
        time_limit: u64,
        /// Unmeasured echoes on a separate connection first.
        #[arg(long, default_value_t = 20)]
        warmup: usize,
    },
    /// Open C connections at once, hold them, report how many opened and the server's memory.
    Hold {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// Handshakes in flight at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        /// Every handshake must finish within this many seconds.
        #[arg(long, default_value_t = 120)]
        open_limit: u64,
        /// Seconds to hold all connections before reading memory and checking them.
        #[arg(long, default_value_t = 3)]
        hold: u64,
        /// Server process; its RSS and its descendants' is reported.
        #[arg(long)]
        pid: Option<u32>,
        /// Connections that send one echo after the hold, to show they still work.
        #[arg(long, default_value_t = 20)]
        verify: usize,
    },
    /// One message to a channel of C connections held by `socket dev` on examples/chat: time
    /// until the last member has it, the server's memory, and the registry's join/leave rate.
    Broadcast {
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
        /// Handshakes in flight at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Every handshake must finish within this many seconds.
        #[arg(long, default_value_t = 120)]
        open_limit: u64,
        /// The registry's DynamoDB endpoint (default: `socket dev`'s `/@dynamodb` on the URL's port).
        #[arg(long)]
        registry_endpoint: Option<String>,
        /// The registry's table (`<service>-<stage>-connections`).
        #[arg(long, default_value = "chat-dev-connections")]
        table: String,
        #[arg(long, default_value = "bench")]
        channel: String,
        /// Registry calls (joins, leaves) in flight at once.
        #[arg(long, default_value_t = 64)]
        registry_concurrency: usize,
        /// `socket dev`'s process id; its RSS and its workers' is reported.
        #[arg(long)]
        pid: Option<u32>,
        /// Longest wait, in seconds, for the last member to have the message.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// Save → new code served: `socket init`, `socket dev`, then one-line edits of src/main.rs.
    EditLoop {
        /// The `socket` binary.
        #[arg(long)]
        socket: PathBuf,
        /// Where the project and its (kept) target folder live.
        #[arg(long, default_value = "target/bench/edit-loop")]
        dir: PathBuf,
        #[arg(long, default_value_t = 5)]
        edits: usize,
        /// `socket dev --worker-target`: auto, lambda or host.
        #[arg(long, default_value = "auto")]
        worker_target: String,
        #[arg(long, default_value = "socket")]
        label: String,
        /// Append the result as a JSON line to this file.
        #[arg(long)]
        record: Option<PathBuf>,
    },
    /// Runtime API driver: the same MESSAGE event through BINARY and the bare baseline.
    Runtime {
        /// The Lambda binary under test (the examples/echo bootstrap).
        #[arg(long)]
        binary: PathBuf,
        /// The baseline (bare-echo built with the same profile and target).
        #[arg(long)]
        baseline: PathBuf,
        #[arg(long, default_value = "socket-runtime")]
        label: String,
        #[arg(long, default_value = "bare-lambda_runtime")]
        baseline_label: String,
        /// Invocations per binary.
        #[arg(long, default_value_t = 10_000)]
        invocations: usize,
        /// Alternating rounds the invocations are split into.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Spawns per binary measured for cold start.
        #[arg(long, default_value_t = 50)]
        cold_starts: usize,
        /// Where the binaries' output goes.
        #[arg(long, default_value = "target/bench/logs")]
        log_dir: PathBuf,
        /// Run the binaries under this command, split on spaces (e.g. "valgrind --tool=callgrind").
        #[arg(long)]
        wrapper: Option<String>,
        /// Extra environment for both binaries, KEY=VALUE (repeatable).
        #[arg(long = "env", value_parser = key_value)]
        environment: Vec<(String, String)>,
        #[arg(long)]
        record: Option<PathBuf>,
    },
    /// Size of the Lambda zip of a binary (zipped as `bootstrap`), or of an existing zip.
    Zip {
        #[arg(long, required_unless_present = "zip", conflicts_with = "zip")]
        binary: Option<PathBuf>,
        #[arg(long)]
        zip: Option<PathBuf>,
        /// Also write the zip made from --binary here.
        #[arg(long, requires = "binary")]
        out: Option<PathBuf>,
        #[arg(long)]
        label: String,
        #[arg(long)]
        arch: String,
        #[arg(long)]
        record: Option<PathBuf>,
    },
    /// Runs one deploy command, timing it and counting its AWS calls (`aws call ...` log lines).
    DeployStep {
        #[arg(long)]
        label: String,
        /// first, no-op, code-change, ...
        #[arg(long)]
        step: String,
        /// Where the command's full output is kept.
        #[arg(long)]
        log: Option<PathBuf>,
        #[arg(long)]
        record: Option<PathBuf>,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
    /// Instructions per invocation from the callgrind files of `runtime --wrapper`.
    Instructions {
        /// Where the `cg.<label>-<invocations>` files are.
        #[arg(long)]
        dir: PathBuf,
        /// The binaries' labels, the one under test first.
        #[arg(long, num_args = 2, required = true)]
        labels: Vec<String>,
        /// The invocation count of the measured run.
        #[arg(long)]
        invocations: usize,
        #[arg(long)]
        record: Option<PathBuf>,
    },
    /// Markdown tables from recorded results: medians and ratios.
    Report {
        files: Vec<PathBuf>,
        /// The label compared with the others.
        #[arg(long, default_value = "socket")]
        subject: String,
    },
}

/// Where the load goes and how its messages look.
#[derive(Args)]
struct Target {
    /// ws:// URL of the server.
    #[arg(long)]
    url: String,
    /// Name of the server in the results.
    #[arg(long, default_value = "socket")]
    label: String,
    /// Field the server routes on: `route` for socket, `action` for API Gateway's convention.
    #[arg(long, default_value = "route")]
    route_field: String,
    /// Route that echoes.
    #[arg(long, default_value = "echo")]
    route: String,
    /// Bytes of padding in each message's data.
    #[arg(long, default_value_t = 64)]
    padding: usize,
    /// Append the result as a JSON line to this file.
    #[arg(long)]
    record: Option<PathBuf>,
}

impl Target {
    fn shape(&self) -> message::EchoShape {
        message::EchoShape {
            route_field: self.route_field.clone(),
            route: self.route.clone(),
            padding: self.padding,
        }
    }
}

fn record(path: Option<&Path>, value: &impl serde::Serialize) -> std::io::Result<()> {
    let Some(path) = path else { return Ok(()) };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(
        file,
        "{}",
        serde_json::to_string(value).map_err(std::io::Error::other)?
    )
}

/// `KEY=VALUE` → `(KEY, VALUE)`.
fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .ok_or_else(|| format!("expected KEY=VALUE, got {text:?}"))
}

/// `ws://127.0.0.1:3111/dev` → `http://127.0.0.1:3111/@dynamodb`, where `socket dev` serves
/// the registry's table.
fn dynamodb_endpoint_of(ws_url: &str) -> Result<String, String> {
    let authority = ws_url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .filter(|authority| !authority.is_empty())
        .ok_or_else(|| {
            format!("not a ws:// URL of socket dev: {ws_url} (or pass --registry-endpoint)")
        })?;
    Ok(format!("http://{authority}/@dynamodb"))
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse().command).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("socket-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match command {
        Command::Echo {
            target,
            connections,
            messages,
            timeout,
            time_limit,
            warmup,
        } => {
            let load = echo_load::EchoLoad {
                url: target.url.clone(),
                connections,
                messages,
                shape: target.shape(),
                timeout: Duration::from_secs(timeout),
                time_limit: Duration::from_secs(time_limit),
                warmup,
            };
            let report = load.run(&target.label).await;
            report.print();
            record(target.record.as_deref(), &report)?;
            Ok(if report.echoed > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Hold {
            target,
            connections,
            concurrency,
            open_limit,
            hold,
            pid,
            verify,
        } => {
            let load = hold::HoldLoad {
                url: target.url.clone(),
                connections,
                concurrency,
                open_limit: Duration::from_secs(open_limit),
                hold: Duration::from_secs(hold),
                pid,
                verify,
                shape: target.shape(),
            };
            let report = load.run(&target.label).await;
            report.print();
            record(target.record.as_deref(), &report)?;
            Ok(if report.opened > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::EditLoop {
            socket,
            dir,
            edits,
            worker_target,
            label,
            record: record_to,
        } => {
            let run = edit_loop::EditLoop {
                socket,
                dir: std::path::absolute(dir)?,
                edits,
                worker_target,
            };
            let report = run.run(&label).await?;
            report.print();
            record(record_to.as_deref(), &report)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Broadcast {
            target,
            connections,
            concurrency,
            open_limit,
            registry_endpoint,
            table,
            channel,
            registry_concurrency,
            pid,
            timeout,
        } => {
            let (soft, _hard) = open_files::raise_soft_limit()?;
            // Each connection is a descriptor here and one in `socket dev`.
            let needed = connections as u64 + 64;
            if soft < needed {
                return Err(format!(
                    "{connections} connections need about {needed} open files; this process may \
                     have {soft} (raise the hard limit: ulimit -Hn)"
                )
                .into());
            }
            if let Some(server) = pid.and_then(open_files::soft_limit_of) {
                if server < needed {
                    return Err(format!(
                        "socket dev (pid {}) may open {server} files, fewer than the {needed} \
                         {connections} connections need: start it after `ulimit -n {needed}`",
                        pid.unwrap_or_default()
                    )
                    .into());
                }
            }
            let registry_endpoint = match registry_endpoint {
                Some(endpoint) => endpoint,
                None => dynamodb_endpoint_of(&target.url)?,
            };
            let load = broadcast::BroadcastLoad {
                url: target.url.clone(),
                connections,
                concurrency,
                open_limit: Duration::from_secs(open_limit),
                registry_endpoint,
                table,
                channel,
                registry_concurrency,
                pid,
                timeout: Duration::from_secs(timeout),
            };
            let report = load.run(&target.label).await?;
            report.print();
            record(target.record.as_deref(), &report)?;
            Ok(
                if report.delivered > 0 && report.delivered == report.members {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                },
            )
        }
        Command::Runtime {
            binary,
            baseline,
            label,
            baseline_label,
            invocations,
            rounds,
            cold_starts,
            log_dir,
            wrapper,
            environment,
            record: record_path,
        } => {
            let bench = runtime_bench::RuntimeBench {
                candidates: vec![
                    runtime_bench::Candidate { label, binary },
                    runtime_bench::Candidate {
                        label: baseline_label,
                        binary: baseline,
                    },
                ],
                invocations,
                rounds,
                cold_starts,
                log_dir,
                wrapper: wrapper
                    .map(|w| w.split_whitespace().map(str::to_owned).collect())
                    .unwrap_or_default(),
                environment,
            };
            let report = bench.run().await?;
            report.print();
            record(record_path.as_deref(), &report)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Zip {
            binary,
            zip,
            out,
            label,
            arch,
            record: record_path,
        } => {
            let bytes = match (binary, zip) {
                (Some(binary), _) => {
                    let bytes = socket_build::zip::bootstrap_zip(&binary)
                        .map_err(|e| format!("cannot zip {}: {e}", binary.display()))?;
                    if let Some(out) = out {
                        std::fs::write(&out, &bytes)
                            .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
                    }
                    bytes.len() as u64
                }
                (None, Some(zip)) => std::fs::metadata(&zip)
                    .map_err(|e| format!("cannot read {}: {e}", zip.display()))?
                    .len(),
                (None, None) => unreachable!("clap requires one"),
            };
            let report = report::ZipReport {
                kind: "zip".into(),
                label,
                arch,
                bytes,
            };
            println!(
                "zip {} ({}): {:.3} MB",
                report.label,
                report.arch,
                bytes as f64 / 1e6
            );
            record(record_path.as_deref(), &report)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::DeployStep {
            label,
            step,
            log,
            record: record_path,
            command,
        } => {
            let (report, output) = deploy_run::run(&label, &step, &command).await?;
            if let Some(log) = log {
                std::fs::write(&log, &output)?;
            }
            report.print();
            record(record_path.as_deref(), &report)?;
            Ok(if report.success {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Instructions {
            dir,
            labels,
            invocations,
            record: record_path,
        } => {
            let report = instructions::measure(&dir, &labels, invocations)?;
            report.print();
            record(record_path.as_deref(), &report)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { files, subject } => {
            let mut text = String::new();
            for file in &files {
                text.push_str(
                    &std::fs::read_to_string(file)
                        .map_err(|e| format!("cannot read {}: {e}", file.display()))?,
                );
                text.push('\n');
            }
            let (results, skipped) = report::Results::parse(&text);
            for line in skipped {
                eprintln!("socket-bench report: skipped {line}");
            }
            print!("{}", results.render(&subject));
            Ok(ExitCode::SUCCESS)
        }
    }
}
