//! `socket logs`.

use crate::args::{block_on, ManifestArgs, OutputArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArgs,
    /// Keep printing new records as they arrive, until Ctrl-C.
    #[arg(long, short = 't')]
    tail: bool,
    /// Start this far back (`30s`, `10m`, `2h`, `1d`) or at this UTC time
    /// (`2024-05-01T10:00:00Z`). Default: 10m.
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// Only records of this route (`$connect`, `$disconnect`, `$default`, or a route name).
    #[arg(long, value_name = "ROUTE")]
    route: Option<String>,
    /// Only records of this connection id.
    #[arg(long, value_name = "ID")]
    connection: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> miette::Result<()> {
    let options = socket_deploy::logs::LogsOptions {
        tail: args.tail,
        since: args.since,
        route: args.route,
        connection: args.connection,
        output: args.output.options(),
    };
    block_on(socket_deploy::logs::run(
        &args.manifest.config,
        &args.manifest.overrides(),
        &options,
    ))
}
