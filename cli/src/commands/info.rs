//! `socket info`.

use crate::args::{block_on, ManifestArgs, OutputArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArgs,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> miette::Result<()> {
    let options = socket_deploy::info::InfoOptions {
        output: args.output.options(),
    };
    block_on(socket_deploy::info::run(
        &args.manifest.config,
        &args.manifest.overrides(),
        &options,
    ))
}
