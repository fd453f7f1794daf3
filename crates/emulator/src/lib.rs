//! `socket dev`: API Gateway (WebSocket) and Lambda, emulated on this machine.
//!
//! The handler crate is built for this machine and run as a pool of worker processes behind a
//! Lambda Runtime API ([`workers`], [`runtime_api`]); a WebSocket gateway with API Gateway's
//! semantics ([`gateway`], [`limits`]) and the `@connections` management API ([`management`])
//! share one port. Source edits rebuild and swap the workers ([`watch`]). Nothing here talks to
//! AWS: the workers get dummy credentials, and the management API does not check signatures.
//!
//! [`Function`] runs one process of a Lambda binary on the same Runtime API, one event at a time:
//! the bench and the runtime's tests drive handler binaries with it.

mod authorizer;
mod binaries;
mod busy_poll;
mod connections;
mod dispatch;
pub mod dynamodb;
mod function;
mod gateway;
mod ids;
mod invocation;
mod lambda_environment;
mod limits;
mod management;
mod output;
mod process;
mod registry;
mod responses;
pub mod running;
mod runtime_api;
mod watch;
mod workers;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use socket_build::{build_for_dev, BuildError, WorkerTarget};
use socket_manifest::{Manifest, ManifestError, Overrides};
use socket_progress::Reporter;

pub use function::Function;
pub use invocation::{Failure, FunctionConfig, Invoked, Outcome};
pub use lambda_environment::{AwsCredentials, LambdaFunction, DUMMY_ACCESS_KEY_ID};
pub use limits::Limits;
pub use process::ProcessOutput;

/// What `socket dev` runs.
#[derive(Clone, Debug)]
pub struct DevOptions {
    /// The manifest (`serverless.yml`).
    pub config: PathBuf,
    pub stage: Option<String>,
    pub region: Option<String>,
    /// Address to listen on (127.0.0.1 unless told otherwise).
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// The most worker processes started at once (they start on demand, as Lambda scales out).
    pub workers: usize,
    /// Rebuild and swap the workers when the handler crate changes.
    pub watch: bool,
    /// API Gateway's limits (idle timeout and maximum duration are configurable for tests).
    pub limits: Limits,
    /// Overrides the manifest's function timeout.
    pub function_timeout: Option<Duration>,
    /// A prebuilt handler binary to run instead of building the handler crate (no watching).
    pub bootstrap: Option<PathBuf>,
    /// What the workers are built for: the Lambda target where it runs here, or the host's own.
    pub worker_target: WorkerTarget,
    /// The connection registry: `Some` when the manifest turns it on (`connections:`) or
    /// `--connections` / `--registry-endpoint` force it; `None` leaves it off (the workers get
    /// no `SOCKET_REGISTRY_TABLE`).
    pub registry: Option<RegistryOptions>,
    /// The stage's real credentials for the workers (`--aws`); `None` gives them dummy ones.
    pub aws_credentials: Option<AwsCredentials>,
}

/// Where the workers' connection registry lives under `socket dev`.
#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    /// The table; `None` names it as `socket deploy` does: `{service}-{stage}-connections`.
    pub table: Option<String>,
    /// Another DynamoDB endpoint (DynamoDB Local, moto) holding the table; `None` serves it
    /// in memory at `http://<host>:<port>/@dynamodb` on `socket dev`'s own port.
    pub endpoint: Option<String>,
}

/// Everything that stops `socket dev` from starting.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DevError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Manifest(#[from] ManifestError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Build(#[from] BuildError),

    #[error("no handler binary at {}", path.display())]
    #[diagnostic(
        code(socket::dev::bootstrap),
        help(
            "build it first, or leave out `--bootstrap` so `socket dev` builds the handler crate"
        )
    )]
    Bootstrap { path: PathBuf },

    #[error("cannot listen on {address}: {source}")]
    #[diagnostic(
        code(socket::dev::bind),
        help("another program uses this port: stop it, or choose another with `--port N` (`--port 0` picks a free one)")
    )]
    Bind {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot prepare the emulator: {0}")]
    #[diagnostic(
        code(socket::dev::setup),
        help(
            "check that the temporary directory is writable and the handler crate's folder exists"
        )
    )]
    Setup(#[source] std::io::Error),
}

/// Runs the emulator until Ctrl-C or SIGTERM.
pub fn run(options: DevOptions) -> Result<(), DevError> {
    // One thread: every message crosses the gateway, the Runtime API and the management API, and
    // handing it between runtime threads cost more wake-ups than the work itself (measured: 1×2000
    // echo about 15 % faster than on the multi-threaded runtime). Builds run on the blocking pool.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DevError::Setup)?;
    runtime.block_on(serve(options))
}

async fn serve(options: DevOptions) -> Result<(), DevError> {
    let manifest = Manifest::load(
        &options.config,
        &Overrides {
            stage: options.stage.clone(),
            region: options.region.clone(),
            ..Overrides::default()
        },
    )?;
    for warning in manifest.warnings() {
        Reporter::Human.info(format!("warning: {warning}"));
    }

    let built = match &options.bootstrap {
        Some(path) if path.is_file() => path.clone(),
        Some(path) => return Err(DevError::Bootstrap { path: path.clone() }),
        None => {
            let manifest = manifest.clone();
            let target = options.worker_target;
            tokio::task::spawn_blocking(move || build_for_dev(&manifest, target, Reporter::Human))
                .await
                .map_err(|error| DevError::Setup(std::io::Error::other(error.to_string())))??
        }
    };
    let mut binaries = binaries::Binaries::new().map_err(DevError::Setup)?;
    let binary = binaries.stage(&built).map_err(DevError::Setup)?;
    let binaries = Arc::new(std::sync::Mutex::new(binaries));

    let address = SocketAddr::new(options.host, options.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| DevError::Bind { address, source })?;
    let bound = listener.local_addr().map_err(DevError::Setup)?;
    let display_host = if bound.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        bound.ip().to_string()
    };
    let origin = format!("{display_host}:{}", bound.port());
    let management_endpoint = format!("http://{origin}/{}", manifest.stage);
    // The flags win; otherwise the manifest's `connections:` turns the registry on.
    let registry_options = options.registry.clone().or_else(|| {
        manifest
            .connections
            .as_ref()
            .map(|registry| RegistryOptions {
                table: Some(registry.table.clone()),
                endpoint: None,
            })
    });
    let registry = registry_options
        .as_ref()
        .map(|registry| registry::Registry::start(registry, &manifest, &origin));
    let _running = running::Running::record(&manifest.dir, &manifest.stage, &origin);

    let timeout = options
        .function_timeout
        .unwrap_or(Duration::from_secs(u64::from(manifest.timeout)));
    let function = FunctionConfig {
        arn: format!(
            "arn:aws:lambda:{}:000000000000:function:{}",
            manifest.region,
            manifest.resource_prefix()
        ),
        timeout,
        environment: worker_environment(
            &manifest,
            &management_endpoint,
            registry.as_ref(),
            options.aws_credentials.as_ref(),
        ),
        working_dir: manifest.code.clone(),
    };
    // Lambda runs at most `reservedConcurrency` environments of the function: so do the workers.
    let workers = match manifest.reserved_concurrency {
        Some(0) => {
            Reporter::Human.info(
                "warning: reservedConcurrency is 0: on AWS every invocation of this function is throttled; socket dev runs one worker",
            );
            1
        }
        Some(reserved) => options.workers.min(reserved as usize),
        None => options.workers,
    };
    let pool = workers::Pool::start(function, binary, workers);
    let gateway = gateway::Gateway::new(
        gateway::GatewayConfig {
            stage: manifest.stage.clone(),
            api_id: "local".into(),
            route_selection: manifest.route_selection.clone(),
            routes: manifest.routes.clone(),
            authorizer: authorizer::ConnectAuthorizer::new(&manifest, "local"),
            limits: options.limits,
            dynamodb: registry
                .as_ref()
                .and_then(|registry| registry.local.clone()),
        },
        Arc::clone(&pool),
    );

    output::plain(&format!("ws://{origin}/{}", manifest.stage));
    output::plain(&format!("{management_endpoint}/@connections"));
    Reporter::Human.info(format!(
        "up to {} worker(s) of {} · timeout {}s · routes: $connect, $disconnect, $default{}{} · Ctrl-C stops",
        workers.max(1),
        manifest.resource_prefix(),
        timeout.as_secs_f64(),
        if manifest.routes.is_empty() { "" } else { ", " },
        manifest.routes.join(", "),
    ));
    if let Some(registry) = &registry {
        Reporter::Human.info(registry.describe());
    }

    let _watching = if options.watch && options.bootstrap.is_none() {
        let for_rebuild = manifest.clone();
        let target = options.worker_target;
        let rebuild: watch::Rebuild = Arc::new(move || {
            build_for_dev(&for_rebuild, target, Reporter::Human)
                .map_err(|error| format!("{:?}", miette::Report::new(error)))
        });
        match watch::start(
            &manifest.code,
            rebuild,
            Arc::clone(&binaries),
            Arc::clone(&pool),
        ) {
            Ok(handle) => Some(handle),
            Err(error) => {
                Reporter::Human.info(format!(
                    "warning: not watching {} for changes: {error}",
                    manifest.code.display()
                ));
                None
            }
        }
    } else {
        None
    };

    gateway.serve(listener, stop_signal()).await;
    pool.shutdown().await;
    binaries.lock().expect("binaries lock").remove_all();
    output::line("socket dev", "stopped");
    Ok(())
}

/// The environment Lambda gives a function, plus what the runtime needs to reach the emulator.
fn worker_environment(
    manifest: &Manifest,
    management_endpoint: &str,
    registry: Option<&registry::Registry>,
    credentials: Option<&AwsCredentials>,
) -> Vec<(String, String)> {
    let mut environment: Vec<(String, String)> = manifest
        .env
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let name = manifest.resource_prefix();
    let mut lambda = LambdaFunction {
        name: &name,
        region: &manifest.region,
        memory_mb: manifest.memory,
        management_endpoint,
        credentials,
    }
    .environment();
    lambda.push((
        socket_protocol::env::ROUTE_SELECTION.to_string(),
        manifest.route_selection.clone(),
    ));
    if let Some(registry) = &manifest.connections {
        lambda.push((
            socket_protocol::env::REGISTRY_TTL.to_string(),
            registry.ttl.to_string(),
        ));
    }
    lambda.extend(
        registry
            .into_iter()
            .flat_map(registry::Registry::environment)
            .map(|(name, value)| (name.to_string(), value)),
    );
    // Lambda's own variables win over the manifest's, as on Lambda (they are reserved there).
    environment.retain(|(key, _)| !lambda.iter().any(|(reserved, _)| reserved == key));
    environment.extend(lambda);
    // Useful while developing, and harmless: the shell's PATH and log settings.
    for passed in ["PATH", "RUST_LOG", "RUST_BACKTRACE"] {
        if let Ok(value) = std::env::var(passed) {
            if !environment.iter().any(|(key, _)| key == passed) {
                environment.push((passed.to_string(), value));
            }
        }
    }
    environment
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate()).ok();
        let mut interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = async {
            match terminate.as_mut() {
                Some(stream) => {
                    stream.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        let interrupt = async {
            match interrupt.as_mut() {
                Some(stream) => {
                    stream.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = terminate => {}
            _ = interrupt => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    output::line("socket dev", "stopping");
}
