//! `socket package`.

use socket_progress::Reporter;

use crate::args::ManifestArgs;

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArgs,
    /// Print the result as one JSON object on stdout (no progress on stderr).
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> miette::Result<()> {
    let reporter = if args.json {
        Reporter::Quiet
    } else {
        Reporter::Human
    };
    let (manifest, package) =
        socket_build::packaging::run(&args.manifest.config, &args.manifest.overrides(), reporter)?;
    if args.json {
        let summary = socket_build::packaging::json_summary(&manifest, &package);
        println!("{}", serde_json::to_string_pretty(&summary).expect("JSON"));
    } else {
        print!("{}", socket_build::packaging::summary(&manifest, &package));
    }
    Ok(())
}
