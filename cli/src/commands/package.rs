//! `socket package`.

use socket_progress::Reporter;

use crate::args::ManifestArgs;

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArgs,
}

pub fn run(args: Args) -> miette::Result<()> {
    let (manifest, package) = socket_build::packaging::run(
        &args.manifest.config,
        &args.manifest.overrides(),
        Reporter::Human,
    )?;
    print!("{}", socket_build::packaging::summary(&manifest, &package));
    Ok(())
}
