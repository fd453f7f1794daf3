//! The commands, one file each: an `Args` struct (what clap parses) and `run(args)`.

mod completions;
mod credentials;
mod deploy;
mod dev;
mod info;
mod init;
mod logs;
mod package;
mod plan;
mod remove;
mod schema;
mod send;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "socket",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("SOCKET_COMMIT"), ")"),
    about = "Serverless WebSockets in Rust: API Gateway + Lambda, deployed in seconds, emulated locally.",
    long_about = "Serverless WebSockets in Rust.\n\n\
        Write handlers with socket_runtime::on(\"connect\" | \"message\" | ...), describe the service in \
        serverless.yml, and `socket deploy` builds them into a Lambda custom runtime behind an API Gateway \
        WebSocket API. `socket dev` runs the same handlers behind a local emulator of API Gateway and Lambda.",
    after_help = "Typical session:\n  socket init my-socket && cd my-socket\n  socket dev                    # ws://127.0.0.1:3111/dev\n  socket deploy --stage prod    # credentials from .env.prod\n  socket info --stage prod\n  socket remove --stage prod"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Deploy a stage to AWS (API Gateway WebSocket API + Lambda); only what changed is touched.
    Deploy(deploy::Args),
    /// Print what `socket deploy` would change (create, update which fields, delete); change nothing.
    #[command(
        long_about = "Reads what exists of the stage, compares it with the manifest and the code, and prints \
            each resource a deploy would create, update (with the fields that differ) or delete. Makes \
            only read calls to AWS. The code is built as `socket deploy` builds it (or read from \
            --package), because its hash decides whether the function's code would be uploaded. \
            The same as `socket deploy --dry-run`.",
        after_help = "Examples:\n  socket plan --stage prod\n  socket deploy --dry-run --json"
    )]
    Plan(plan::Args),
    /// Print a deployed stage's outputs (url, routes, function, code), read from AWS.
    Info(info::Args),
    /// Print the function's logs from CloudWatch: time, route and connection id per record.
    #[command(
        long_about = "Reads the function's log group (/aws/lambda/<service>-<stage>) with FilterLogEvents, \
            oldest record first, one line per record: its time, route and connection id, then the \
            outcome and duration for the line the runtime writes per invocation, or the message for \
            any other line. --route and --connection keep only the records whose structured fields \
            are exactly that. --tail keeps polling every second for new records until Ctrl-C.",
        after_help = "Examples:\n  socket logs --stage prod --since 1h\n  socket logs --tail --route '$connect'\n  socket logs --connection L0SM9cOFvHcCIhw= --json"
    )]
    Logs(logs::Args),
    /// Send a message to a connection, a channel or every connection (socket dev or AWS).
    #[command(
        long_about = "Sends MESSAGE (JSON as is, anything else as text) to one connection \
            (--connection ID), every member of a channel (--channel NAME) or every connection (--all). \
            Channels and --all need the connection registry (`connections: true` in the manifest). \
            Goes to a `socket dev` running for the stage when there is one (or --local URL), else to \
            the deployed stage with the stage's credentials. Members that have gone (410) are removed \
            from the registry.",
        after_help = "Examples:\n  socket send --channel lobby '{\"type\":\"notice\",\"text\":\"hi\"}'\n  socket send --connection 'Ab12+/cd=' hello --stage prod\n  socket send --all ping --local http://127.0.0.1:3111 --json"
    )]
    Send(send::Args),
    /// Delete everything a stage created: API, function, role and its policies, log group.
    Remove(remove::Args),
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
    Dev(dev::Args),
    /// Build the Lambda package (bootstrap.zip) without deploying it.
    #[command(
        long_about = "Builds the handler crate as a static Linux binary for the function's architecture \
            (arm64: aarch64-unknown-linux-musl, x86_64: x86_64-unknown-linux-musl) with a profile tuned \
            for size and cold start (opt-level s, LTO, one codegen unit, stripped; your own Cargo.toml \
            profiles are untouched), names it `bootstrap`, and zips it reproducibly into \
            .socket/<stage>/bootstrap.zip next to the manifest. Prints the path, size and SHA-256: \
            the same code always gives the same SHA-256.\n\n\
            Missing Rust targets are added with rustup. Crates with C code (ring, aws-lc-sys) need a C \
            compiler for the target: musl-gcc or gcc for a Linux host's own architecture, a cross \
            compiler (aarch64-linux-gnu-gcc, musl-cross) for the other. Without one, the build uses Zig \
            through cargo-zigbuild, from PATH or from socket's cache (~/.cache/socket/zig-venv), where \
            socket installs it from PyPI when python3 is available.\n\n\
            SOCKET_BUILD_WITH=zig always builds with Zig, =cc always with the C toolchain, =auto (default) \
            with the C toolchain when it is installed.",
        after_help = "Examples:\n  socket package\n  socket package --stage prod\n  socket package --config examples/echo/serverless.yml"
    )]
    Package(package::Args),
    /// Show which AWS credentials a stage uses and where they come from (never the secret).
    #[command(
        long_about = "Resolves the AWS credentials `socket deploy` would use for a stage and prints their \
            source, the access key id (masked), the region and the endpoint. Nothing is sent to AWS.\n\n\
            Precedence: the process environment, then the stage's env file (.env for the manifest's \
            default stage, .env.<stage> for any other, next to serverless.yml), then the AWS default \
            chain (AWS_PROFILE and ~/.aws, SSO, credential_process, container and instance roles).",
        after_help = "Examples:\n  socket credentials\n  socket credentials --stage prod    # reads .env.prod"
    )]
    Credentials(credentials::Args),
    /// Create a new project: serverless.yml, a handler crate, .env.example and .gitignore.
    #[command(
        long_about = "Writes a new socket project into DIR (default: the current folder), from a template: \
            serverless.yml (the manifest), Cargo.toml and src/main.rs (the handler crate, with connect, \
            message, whoami, send, default and disconnect handlers), .env.example (where AWS credentials \
            go), .gitignore (ignores .env files, .socket/ and target/) and README.md. Refuses to \
            overwrite: if any of those files exists, nothing is written.\n\n\
            The handler crate depends on socket-runtime by path, pointing at the runtime/ folder of the \
            socket source checkout this binary was built from.",
        after_help = "Examples:\n  socket init my-socket && cd my-socket && socket dev\n  socket init --template echo\n  socket init my-chat --template chat"
    )]
    Init(init::Args),
    /// Print the shell completion script for bash, zsh, fish or PowerShell.
    #[command(
        after_help = "Install:\n  bash:        socket completions bash > ~/.local/share/bash-completion/completions/socket\n  zsh:         socket completions zsh > ~/.zfunc/_socket   (with fpath+=~/.zfunc before compinit)\n  fish:        socket completions fish > ~/.config/fish/completions/socket.fish\n  PowerShell:  socket completions powershell >> $PROFILE"
    )]
    Completions(completions::Args),
    /// Print the JSON Schema of serverless.yml (editors complete and check keys with it).
    #[command(
        after_help = "Use:\n  socket schema > serverless.schema.json\n  then first line of serverless.yml:  # yaml-language-server: $schema=./serverless.schema.json\n(`socket init` writes both.)"
    )]
    Schema(schema::Args),
}

/// Runs one command.
pub fn run(command: Command) -> miette::Result<()> {
    match command {
        Command::Deploy(args) => deploy::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Info(args) => info::run(args),
        Command::Logs(args) => logs::run(args),
        Command::Send(args) => send::run(args),
        Command::Remove(args) => remove::run(args),
        Command::Dev(args) => dev::run(args),
        Command::Package(args) => package::run(args),
        Command::Credentials(args) => credentials::run(args),
        Command::Init(args) => init::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Schema(args) => schema::run(args),
    }
}
