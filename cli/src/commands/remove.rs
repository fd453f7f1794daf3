//! `socket remove`.

use crate::args::{block_on, ManifestArgs, OutputArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArgs,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> miette::Result<()> {
    let options = socket_deploy::remove::RemoveOptions {
        output: args.output.options(),
    };
    block_on(socket_deploy::remove::run(
        &args.manifest.config,
        &args.manifest.overrides(),
        &options,
    ))
}
