//! `socket`: deploy serverless WebSocket backends written in Rust.
//!
//! This file only parses arguments and calls into the library; errors are
//! rendered once, here, as "what happened" plus "what to do".

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "socket",
    version,
    about = "Serverless WebSockets in Rust: API Gateway + Lambda, deployed in seconds, emulated locally.",
    long_about = "Serverless WebSockets in Rust.\n\n\
        Write handlers with socket_runtime::on(\"connect\" | \"message\" | ...), describe the service in \
        serverless.yml, and `socket deploy` builds them into a Lambda custom runtime behind an API Gateway \
        WebSocket API. `socket dev` runs the same handlers behind a local emulator of API Gateway and Lambda.",
    after_help = "Typical session:\n  socket init my-socket && cd my-socket\n  socket dev                    # ws://127.0.0.1:3111/dev\n  socket deploy --stage prod    # credentials from .env.prod\n  socket info --stage prod\n  socket remove --stage prod"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

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
    config: PathBuf,
    /// Stage to act on (default: `stage` in the manifest, else `dev`). Credentials come from `.env.<stage>`.
    #[arg(long, short = 's', global = true)]
    stage: Option<String>,
    /// AWS region (default: `region` in the manifest, else `us-east-1`).
    #[arg(long, short = 'r', global = true)]
    region: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Deploy a stage to AWS (API Gateway WebSocket API + Lambda); only what changed is touched.
    Deploy {
        #[command(flatten)]
        manifest: ManifestArgs,
        #[command(flatten)]
        options: socket_cli::deploy::DeployOptions,
    },
    /// Print a deployed stage's outputs (url, routes, function, code), read from AWS.
    Info {
        #[command(flatten)]
        manifest: ManifestArgs,
        #[command(flatten)]
        options: socket_cli::info::InfoOptions,
    },
    /// Delete everything a stage created: API, function, role and its policies, log group.
    Remove {
        #[command(flatten)]
        manifest: ManifestArgs,
        #[command(flatten)]
        options: socket_cli::remove::RemoveOptions,
    },
    /// Run the handlers locally behind an emulator of API Gateway (WebSocket) and Lambda.
    #[command(
        long_about = "Builds the handler crate for this machine and serves it behind a local emulator of \
            API Gateway's WebSocket API and Lambda: the handler code and runtime that `socket deploy` ships, built as a static binary for this machine (a quick-to-rebuild profile) and run as a \
            pool of worker processes behind a Lambda Runtime API. Prints the WebSocket URL and the \
            @connections management endpoint; rebuilds and swaps the workers when the handler crate \
            changes (open connections stay open). Needs no AWS credentials.",
        after_help = "Talk to it:\n  websocat ws://127.0.0.1:3111/dev\n  {\"route\":\"echo\",\"data\":\"hi\"}\n\n\
            Send to a connection from outside:\n  curl -X POST --data 'hello' http://127.0.0.1:3111/dev/@connections/<id>"
    )]
    Dev(DevArgs),

    /// Build the Lambda package (bootstrap.zip) without deploying it.
    #[command(
        long_about = "Builds the handler crate as a static Linux binary for the function's architecture \
            (arm64: aarch64-unknown-linux-musl, x86_64: x86_64-unknown-linux-musl) with a profile tuned \
            for size and cold start (opt-level s, LTO, one codegen unit, stripped; your own Cargo.toml \
            profiles are untouched), names it `bootstrap`, and zips it reproducibly into \
            .socket/<stage>/bootstrap.zip next to the manifest. Prints the path, size and SHA-256: \
            the same code always gives the same SHA-256.\n\n\
            Missing Rust targets are added with rustup. Crates with C code (ring, aws-lc-sys) need a C \
            compiler for the target: musl-gcc or gcc for x86_64, aarch64-linux-gnu-gcc for arm64 \
            (Debian/Ubuntu: `sudo apt-get install musl-tools gcc-aarch64-linux-gnu libc6-dev-arm64-cross`).",
        after_help = "Examples:\n  socket package\n  socket package --stage prod\n  socket package --config examples/echo/serverless.yml"
    )]
    Package(PackageArgs),

    /// Show which AWS credentials a stage uses and where they come from (never the secret).
    #[command(
        long_about = "Resolves the AWS credentials `socket deploy` would use for a stage and prints their \
            source, the access key id (masked), the region and the endpoint. Nothing is sent to AWS.\n\n\
            Precedence: the process environment, then the stage's env file (.env for the manifest's \
            default stage, .env.<stage> for any other, next to serverless.yml), then the AWS default \
            chain (AWS_PROFILE and ~/.aws, SSO, credential_process, container and instance roles).",
        after_help = "Examples:\n  socket credentials\n  socket credentials --stage prod    # reads .env.prod"
    )]
    Credentials(PackageArgs),

    /// Create a new project: serverless.yml, a handler crate, .env.example and .gitignore.
    #[command(
        long_about = "Writes a new socket project into DIR (default: the current folder), from a template: \
            serverless.yml (the manifest), Cargo.toml and src/main.rs (the handler crate, with connect, \
            message, whoami, send, default and disconnect handlers), .env.example (where AWS credentials \
            go), .gitignore (ignores .env files, .socket/ and target/) and README.md. Refuses to \
            overwrite: if any of those files exists, nothing is written.\n\n\
            The handler crate depends on socket-runtime by path, pointing at the runtime/ folder of the \
            socket source checkout this binary was built from.",
        after_help = "Examples:\n  socket init my-socket && cd my-socket && socket dev\n  socket init --template echo"
    )]
    Init(InitArgs),
}

/// `socket init` options.
#[derive(Args, Clone, Debug)]
struct InitArgs {
    /// Folder to create the project in (created if missing). Its name becomes the service name.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Template to start from (`echo`).
    #[arg(long, short = 't', default_value = "echo")]
    template: String,
}

/// `socket package` options.
#[derive(Args, Clone, Debug)]
struct PackageArgs {
    #[command(flatten)]
    manifest: ManifestArgs,
}

/// `socket dev` options.
#[derive(Args, Clone, Debug)]
struct DevArgs {
    #[command(flatten)]
    manifest: ManifestArgs,
    /// Port to listen on (0 picks a free one; the URL printed first has the real port).
    #[arg(long, default_value_t = 3111)]
    port: u16,
    /// Address to listen on. Only loopback by default: other machines cannot reach the emulator.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Worker processes of the handler (each runs one invocation at a time, as Lambda does).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: miette::Result<()> = match cli.command {
        Command::Dev(args) => socket_cli::dev::run(dev_options(args)).map_err(Into::into),
        Command::Package(args) => package(args),
        Command::Credentials(args) => credentials(args),
        Command::Init(args) => init(args),
        Command::Deploy { manifest, options } => aws_command(socket_cli::deploy::run(
            &manifest.config,
            &overrides(&manifest),
            &options,
        )),
        Command::Info { manifest, options } => aws_command(socket_cli::info::run(
            &manifest.config,
            &overrides(&manifest),
            &options,
        )),
        Command::Remove { manifest, options } => aws_command(socket_cli::remove::run(
            &manifest.config,
            &overrides(&manifest),
            &options,
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::FAILURE
        }
    }
}

fn credentials(args: PackageArgs) -> miette::Result<()> {
    let manifest =
        socket_cli::manifest::Manifest::load(&args.manifest.config, &overrides(&args.manifest))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))?;
    let text = runtime.block_on(socket_cli::credentials::describe(&manifest))?;
    print!("{text}");
    Ok(())
}

fn overrides(args: &ManifestArgs) -> socket_cli::manifest::Overrides {
    socket_cli::manifest::Overrides {
        stage: args.stage.clone(),
        region: args.region.clone(),
    }
}

/// Runs one of the AWS commands (deploy, info, remove) on a Tokio runtime.
fn aws_command(
    command: impl std::future::Future<Output = miette::Result<()>>,
) -> miette::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| miette::miette!("cannot start the async runtime: {e}"))?;
    runtime.block_on(command)
}

fn init(args: InitArgs) -> miette::Result<()> {
    socket_cli::init::init(&args.dir, &args.template)?;
    let shown = args.dir.display();
    eprintln!(
        "  ✓ Created a socket project in {shown} (template {})",
        args.template
    );
    if args.dir != std::path::Path::new(".") {
        eprintln!("\n  cd {shown}");
    }
    eprintln!("  socket dev       # run it locally: ws://127.0.0.1:3111/dev");
    eprintln!("  socket deploy    # after putting AWS credentials in .env (see .env.example)");
    Ok(())
}

fn package(args: PackageArgs) -> miette::Result<()> {
    let reporter = socket_cli::progress::Reporter::Human;
    let (manifest, package) =
        socket_cli::package::run(&args.manifest.config, &overrides(&args.manifest), reporter)?;
    print!("{}", socket_cli::package::summary(&manifest, &package));
    Ok(())
}

fn dev_options(args: DevArgs) -> socket_cli::dev::DevOptions {
    let seconds = |secs: f64| std::time::Duration::from_secs_f64(secs.max(0.001));
    socket_cli::dev::DevOptions {
        config: args.manifest.config,
        stage: args.manifest.stage,
        region: args.manifest.region,
        host: args.host,
        port: args.port,
        workers: usize::from(args.workers),
        watch: !args.no_watch,
        limits: socket_cli::dev::Limits {
            idle_timeout: seconds(args.idle_timeout),
            max_connection_duration: seconds(args.max_connection_duration),
            ..socket_cli::dev::Limits::default()
        },
        function_timeout: args.timeout.map(seconds),
        bootstrap: args.bootstrap,
    }
}
