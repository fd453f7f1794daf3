//! `socket dev`.

use std::path::PathBuf;
use std::time::Duration;

use socket_build::WorkerTarget;
use socket_deploy::credentials::{mask_key_id, CredentialSource};
use socket_emulator::{AwsCredentials, DevOptions, Limits, RegistryOptions};
use socket_manifest::Manifest;

use crate::args::{block_on, ManifestArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArgs,
    /// Port to listen on (0 picks a free one; the URL printed first has the real port).
    #[arg(long, default_value_t = 3111)]
    port: u16,
    /// Address to listen on. Only loopback by default: other machines cannot reach the emulator.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The most worker processes of the handler: they start when invocations would wait and
    /// stop after two idle minutes, each running one invocation at a time, as Lambda does.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=256))]
    workers: u16,
    /// Do not rebuild when the handler crate changes.
    #[arg(long)]
    no_watch: bool,
    /// Close a connection with no message from its client for this long (API Gateway: 600).
    #[arg(long, value_name = "SECS", default_value_t = 600.0)]
    idle_timeout: f64,
    /// Close any connection after this long (API Gateway: 7200).
    #[arg(long, value_name = "SECS", default_value_t = 7200.0)]
    max_connection_duration: f64,
    /// Function timeout, instead of `timeout` from the manifest.
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Run this prebuilt handler binary instead of building the handler crate (implies --no-watch).
    #[arg(long, value_name = "PATH")]
    bootstrap: Option<PathBuf>,
    /// What the workers are built for: `lambda` is the deployed static Linux musl target (it
    /// runs on Linux), `host` this machine's own target (the same handler code and Runtime API;
    /// what macOS and Windows use), `auto` the first of the two that runs here.
    #[arg(long, value_name = "TARGET", env = socket_build::dev_target::WORKER_TARGET_VARIABLE, default_value_t = WorkerTarget::Auto)]
    worker_target: WorkerTarget,
    /// Turn the connection registry on: `socket dev` serves its DynamoDB table in memory at
    /// `/@dynamodb` on its own port, with no AWS account.
    #[arg(long)]
    connections: bool,
    /// Keep the connection registry at this DynamoDB endpoint instead (DynamoDB Local, moto,
    /// e.g. http://127.0.0.1:8000), in a table that exists there; implies --connections.
    #[arg(long, value_name = "URL")]
    registry_endpoint: Option<String>,
    /// Give the handler the stage's real AWS credentials (found as `socket deploy` finds them:
    /// the environment, `.env`/`.env.<stage>`, the AWS chain) and its region, so it can reach
    /// real AWS services. Without it the handler gets dummy credentials.
    #[arg(long)]
    aws: bool,
}

pub fn run(args: Args) -> miette::Result<()> {
    let aws_credentials = if args.aws {
        Some(stage_credentials(&args.manifest)?)
    } else {
        None
    };
    let seconds = |secs: f64| Duration::from_secs_f64(secs.max(0.001));
    let options = DevOptions {
        config: args.manifest.config,
        stage: args.manifest.stage,
        region: args.manifest.region,
        host: args.host,
        port: args.port,
        workers: usize::from(args.workers),
        watch: !args.no_watch,
        limits: Limits {
            idle_timeout: seconds(args.idle_timeout),
            max_connection_duration: seconds(args.max_connection_duration),
            ..Limits::default()
        },
        function_timeout: args.timeout.map(seconds),
        bootstrap: args.bootstrap,
        worker_target: args.worker_target,
        registry: (args.connections || args.registry_endpoint.is_some()).then_some(
            RegistryOptions {
                table: None,
                endpoint: args.registry_endpoint,
            },
        ),
        aws_credentials,
    };
    socket_emulator::run(options).map_err(Into::into)
}

/// The stage's credentials for `--aws`, with a line saying whose they are (never the secret).
fn stage_credentials(manifest: &ManifestArgs) -> miette::Result<AwsCredentials> {
    let manifest = Manifest::load(&manifest.config, &manifest.overrides())?;
    let keys = block_on(async {
        socket_deploy::credentials::stage_keys(&manifest)
            .await
            .map_err(miette::Report::from)
    })?;
    let from = match &keys.source {
        CredentialSource::EnvFile(file) => file.display().to_string(),
        CredentialSource::ProcessEnv => "the environment".to_string(),
        CredentialSource::DefaultChain => "the AWS credential chain".to_string(),
    };
    eprintln!(
        "socket dev: the handler gets the AWS credentials of stage {} ({}, from {from}) in {}",
        manifest.stage,
        mask_key_id(&keys.access_key_id),
        manifest.region
    );
    Ok(AwsCredentials {
        access_key_id: keys.access_key_id,
        secret_access_key: keys.secret_access_key,
        session_token: keys.session_token,
    })
}
