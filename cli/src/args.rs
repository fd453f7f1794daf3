//! Arguments several commands share, and the async runtime the AWS commands run on.

use std::path::PathBuf;

use clap::Args;
use socket_deploy::outputs::OutputOptions;
use socket_manifest::Overrides;

/// Options every command that reads the manifest shares.
#[derive(Args, Clone, Debug)]
pub struct ManifestArgs {
    /// Path of the manifest.
    #[arg(
        long,
        short = 'c',
        value_name = "PATH",
        default_value = "serverless.yml",
        global = true
    )]
    pub config: PathBuf,
    /// Stage to act on (default: `stage` in the manifest, else `dev`). Credentials come from `.env.<stage>`.
    #[arg(long, short = 's', global = true)]
    pub stage: Option<String>,
    /// AWS region (default: `region` in the manifest, else `us-east-1`).
    #[arg(long, short = 'r', global = true)]
    pub region: Option<String>,
    /// AWS profile (in ~/.aws/config and ~/.aws/credentials) to use instead of any access keys
    /// in the environment or the stage's env file (default: AWS_PROFILE, else the keys).
    #[arg(long, value_name = "NAME", global = true)]
    pub profile: Option<String>,
}

impl ManifestArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            stage: self.stage.clone(),
            region: self.region.clone(),
            profile: self.profile.clone(),
        }
    }
}

/// The arguments of the commands that read a deployed stage and nothing else (`info`, `remove`).
#[derive(clap::Args, Clone, Debug)]
pub struct StageArgs {
    #[command(flatten)]
    pub manifest: ManifestArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `--json` and `-v`, shared by the commands that talk to AWS (`deploy`, `info`, `remove`).
#[derive(Args, Clone, Debug)]
pub struct OutputArgs {
    /// Print the result as one JSON object on stdout (no progress on stderr).
    #[arg(long)]
    pub json: bool,
    /// Log every AWS call (same as SOCKET_LOG=debug for socket's own logs).
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

impl OutputArgs {
    pub fn options(&self) -> OutputOptions {
        OutputOptions {
            json: self.json,
            verbose: self.verbose,
        }
    }
}

/// Runs an async command (the ones that talk to AWS) to completion on a Tokio runtime.
pub fn block_on<T>(
    command: impl std::future::Future<Output = miette::Result<T>>,
) -> miette::Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))?;
    runtime.block_on(command)
}
