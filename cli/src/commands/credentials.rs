//! `socket credentials`.

use socket_manifest::Manifest;

use crate::args::{block_on, ManifestArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArgs,
}

pub fn run(args: Args) -> miette::Result<()> {
    let manifest = Manifest::load(&args.manifest.config, &args.manifest.overrides())?;
    let text = block_on(async {
        socket_deploy::credentials::describe(&manifest)
            .await
            .map_err(Into::into)
    })?;
    print!("{text}");
    Ok(())
}
