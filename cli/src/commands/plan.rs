//! `socket plan` (the same as `socket deploy --dry-run`).

use std::path::PathBuf;

use crate::args::{block_on, ManifestArgs, OutputArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArgs,
    /// Compare against this zip (holding `bootstrap`) instead of building the handler crate.
    #[arg(long, value_name = "ZIP")]
    package: Option<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> miette::Result<()> {
    print_plan(&args.manifest, args.package, &args.output)
}

/// Reads the stage and prints what a deploy would change; shared with `deploy --dry-run`.
pub fn print_plan(
    manifest: &ManifestArgs,
    package: Option<PathBuf>,
    output: &OutputArgs,
) -> miette::Result<()> {
    let options = socket_deploy::dry_run::PlanOptions {
        package,
        output: output.options(),
    };
    block_on(socket_deploy::dry_run::run(
        &manifest.config,
        &manifest.overrides(),
        &options,
    ))
}
