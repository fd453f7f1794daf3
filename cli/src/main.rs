//! `socket`: deploy serverless WebSocket backends written in Rust.
//!
//! This binary only parses arguments and calls into the library crates; each command is a file in
//! `commands/` with an `Args` struct and `run(args)`. Errors are rendered once, here, as "what
//! happened" plus "what to do".

mod args;
mod commands;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

/// Colour on stderr only for a terminal, and never with `NO_COLOR` set (https://no-color.org).
fn colour() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

fn main() -> ExitCode {
    let colour = colour();
    // Without colour, plain ASCII too: logs and pipes get text that greps and diffs cleanly.
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(colour)
                .unicode(colour)
                .build(),
        )
    }));
    let cli = commands::Cli::parse();
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}
