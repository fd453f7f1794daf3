//! `socket info`.

use crate::args::block_on;
pub use crate::args::StageArgs as Args;

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
