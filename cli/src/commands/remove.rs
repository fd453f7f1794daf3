//! `socket remove`.

use crate::args::block_on;
pub use crate::args::StageArgs as Args;

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
