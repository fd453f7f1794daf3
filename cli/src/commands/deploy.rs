//! `socket deploy`.

use std::path::PathBuf;

use crate::args::{block_on, ManifestArgs, OutputArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArgs,
    /// Deploy this zip (holding `bootstrap`) instead of building the handler crate.
    #[arg(long, value_name = "ZIP")]
    package: Option<PathBuf>,
    /// Print what the deploy would create, update (and which fields) or delete, and change
    /// nothing (the same as `socket plan`).
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> miette::Result<()> {
    if args.dry_run {
        return super::plan::print_plan(&args.manifest, args.package, &args.output);
    }
    let options = socket_deploy::deploy::DeployOptions {
        package: args.package,
        output: args.output.options(),
    };
    block_on(socket_deploy::deploy::run(
        &args.manifest.config,
        &args.manifest.overrides(),
        &options,
    ))
}
