//! `socket`: deploy serverless WebSocket backends written in Rust.
//!
//! This file only parses arguments and calls into the library; errors are
//! rendered once, here, as "what happened" plus "what to do".

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "socket",
    version,
    about = "Serverless WebSockets in Rust: API Gateway + Lambda, deployed in seconds, emulated locally.",
    long_about = "Serverless WebSockets in Rust.\n\n\
        Write handlers with socket_runtime::on(\"connect\" | \"message\" | ...), describe the service in \
        serverless.yml, and `socket deploy` builds them into a Lambda custom runtime behind an API Gateway \
        WebSocket API. `socket dev` runs the same handlers behind a local emulator of API Gateway and Lambda.",
    after_help = "Typical session:\n  socket init my-socket && cd my-socket\n  socket dev                    # ws://127.0.0.1:3111/dev\n  socket deploy --stage prod    # credentials from .env.prod\n  socket info --stage prod\n  socket remove --stage prod"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options every command that reads the manifest shares.
#[derive(Args, Clone, Debug)]
pub struct ManifestArgs {
    /// Path of the manifest.
    #[arg(long, short = 'c', value_name = "PATH", default_value = "serverless.yml", global = true)]
    config: PathBuf,
    /// Stage to act on (default: `stage` in the manifest, else `dev`). Credentials come from `.env.<stage>`.
    #[arg(long, short = 's', global = true)]
    stage: Option<String>,
    /// AWS region (default: `region` in the manifest, else `us-east-1`).
    #[arg(long, short = 'r', global = true)]
    region: Option<String>,
}

#[derive(Subcommand)]
enum Command {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = cli;
    ExitCode::SUCCESS
}
