//! `socket`: deploy serverless WebSocket backends written in Rust.
//!
//! This binary only parses arguments and calls into the library crates; each command is a file in
//! `commands/` with an `Args` struct and `run(args)`. Errors are rendered once, here, as "what
//! happened" plus "what to do".

mod args;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}
