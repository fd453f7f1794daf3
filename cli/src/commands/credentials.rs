//! `socket credentials`.

use socket_manifest::Manifest;

use crate::args::{block_on, ManifestArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArgs,
    /// Print the result as one JSON object on stdout (the key id masked, as in the text).
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> miette::Result<()> {
    let manifest = Manifest::load(&args.manifest.config, &args.manifest.overrides())?;
    let report = block_on(async {
        socket_deploy::credentials::describe(&manifest)
            .await
            .map_err(Into::into)
    })?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("a report serializes")
        );
    } else {
        print!("{}", report.text());
    }
    Ok(())
}
