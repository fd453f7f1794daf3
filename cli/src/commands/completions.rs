//! `socket completions <shell>`: the shell completion script, generated from the argument
//! definitions so it never falls behind them.

use clap::CommandFactory;
use clap_complete::Shell;

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// The shell to complete in.
    shell: Shell,
}

pub fn run(args: Args) -> miette::Result<()> {
    let mut command = super::Cli::command();
    clap_complete::generate(args.shell, &mut command, "socket", &mut std::io::stdout());
    Ok(())
}
