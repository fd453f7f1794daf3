//! `serverless.yml`: the service's manifest, resolved for one stage.
//!
//! The types below are what every command works from. Loading is two steps: `yaml.rs` parses the
//! file into a raw tree that keeps the place of every key and value; `load.rs` and `inputs.rs`
//! read that tree with plain functions (`read.rs`), so every error names the file, line and column
//! with a help line. Each key is declared once, with its check, in `inputs.rs`.
//! See `serverless.yml.example` for every key.
//!
//! Stage-specific values: `inputs.stages.<stage>` holds any inputs (but `stages`) and is merged
//! over `inputs` when that stage is selected; `env` is merged name by name.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The CPU architecture of the Lambda function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Architecture {
    #[serde(rename = "arm64")]
    Arm64,
    #[serde(rename = "x86_64")]
    X86_64,
}

/// Command-line values that take precedence over the manifest.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub stage: Option<String>,
    pub region: Option<String>,
    /// `--profile`: the AWS profile to use, over any keys in the environment or the env file.
    pub profile: Option<String>,
}

/// A manifest resolved for one stage: variables substituted, defaults applied, validated.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// The manifest file itself (absolute).
    pub path: PathBuf,
    /// The folder holding the manifest: `.env` files and `.socket/` live here.
    pub dir: PathBuf,
    /// The service name (`inputs.name`, else the top-level `name`); prefixes every resource name.
    pub service: String,
    pub stage: String,
    /// The manifest's own default stage (`.env` belongs to it; other stages read `.env.<stage>`).
    pub default_stage: String,
    pub description: Option<String>,
    pub region: String,
    /// The AWS profile `--profile` named: used over any access keys (else `AWS_PROFILE` applies).
    pub profile: Option<String>,
    /// MB, 128..=10240.
    pub memory: u32,
    /// Seconds, 1..=900.
    pub timeout: u32,
    pub architecture: Architecture,
    /// Function environment (names may be shown, values never).
    pub env: BTreeMap<String, String>,
    /// The handler crate's folder (absolute).
    pub code: PathBuf,
    /// API Gateway route selection expression, e.g. `$request.body.route`.
    pub route_selection: String,
    /// Custom routes declared in the manifest (besides `$connect`, `$disconnect`, `$default`).
    pub routes: Vec<String>,
    /// The connection registry (`connections:`), when it is on.
    pub connections: Option<Registry>,
    /// Days CloudWatch Logs keeps the function's records (`logRetention`).
    pub log_retention: u32,
    /// The custom domain (`domain:`), when there is one.
    pub domain: Option<Domain>,
    /// The `$connect` authorizer (`authorizer:`), when there is one.
    pub authorizer: Option<Authorizer>,
    /// IAM statements the function's role gets besides socket's own (`iamRoleStatements`).
    pub statements: Vec<Statement>,
    /// The user's tags, put on every resource beside `socket:service` and `socket:stage`.
    pub tags: BTreeMap<String, String>,
    /// Concurrent executions reserved for the function (`reservedConcurrency`); `None` leaves
    /// it to the account's unreserved pool.
    pub reserved_concurrency: Option<u32>,
}

/// The connection registry of a stage: a DynamoDB table the runtime keeps connections and
/// channel memberships in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registry {
    /// `{service}-{stage}-connections`.
    pub table: String,
    /// Seconds a record lives without being refreshed.
    pub ttl: u32,
}

/// How long a registry record lives by default: API Gateway's 2-hour maximum connection duration
/// plus an hour.
pub const DEFAULT_REGISTRY_TTL: u32 = 10_800;

mod authorizer;
mod checks;
mod domain;
mod error;
mod inputs;
mod load;
mod located;
pub mod names;
mod read;
mod schema;
pub mod stage_env;
mod statements;
mod tags;
mod variables;
mod yaml;

pub use authorizer::Authorizer;
pub use domain::Domain;
pub use error::ManifestError;
pub use schema::SCHEMA;
pub use stage_env::{env_file_for, process_env, StageEnv};
pub use statements::{Effect, Statement};
pub use tags::{SERVICE_TAG, STAGE_TAG};

use std::path::Path;

/// Defaults, documented in `serverless.yml.example`.
pub const DEFAULT_STAGE: &str = "dev";
pub const DEFAULT_REGION: &str = "us-east-1";
/// The original component's default; plenty for a Rust handler and CPU scales with it.
pub const DEFAULT_MEMORY: u32 = 512;
pub const DEFAULT_TIMEOUT: u32 = 10;
/// 30 days: enough to look back over a month of incidents and releases, while CloudWatch's own
/// default (never expire) lets storage cost grow forever for logs nobody reads.
pub const DEFAULT_LOG_RETENTION: u32 = 30;
pub use socket_protocol::DEFAULT_ROUTE_SELECTION;
/// API Gateway waits at most this long for a WebSocket integration to answer.
pub const API_GATEWAY_TIMEOUT: u32 = 29;

impl Manifest {
    /// Read and resolve the manifest at `path` for the stage `overrides` (or the manifest) selects,
    /// with `${env:…}` resolved against the process environment over the stage's `.env` file.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Manifest, ManifestError> {
        Self::load_with_env(path, overrides, process_env())
    }

    /// [`Manifest::load`] with an explicit process environment (tests, embedding).
    pub fn load_with_env(
        path: &Path,
        overrides: &Overrides,
        process: BTreeMap<String, String>,
    ) -> Result<Manifest, ManifestError> {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let src = match std::fs::read_to_string(&path) {
            Ok(src) => src,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ManifestError::NotFound { path })
            }
            Err(source) => return Err(ManifestError::Read { path, source }),
        };
        load::load(path, &src, overrides, process)
    }

    /// Things that are allowed but likely not what the user wants; commands print them.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.timeout > API_GATEWAY_TIMEOUT {
            out.push(format!(
                "timeout is {} s, but API Gateway waits at most {API_GATEWAY_TIMEOUT} s for a WebSocket handler: \
                 longer work keeps running, but the client gets no reply from that invocation",
                self.timeout
            ));
        }
        out
    }

    /// `{service}-{stage}`: the prefix of every AWS resource name of this stage.
    pub fn resource_prefix(&self) -> String {
        format!("{}-{}", self.service, self.stage)
    }

    /// Where this stage's build output goes: `<manifest dir>/.socket/<stage>/`.
    pub fn output_dir(&self) -> PathBuf {
        self.dir.join(".socket").join(&self.stage)
    }

    /// The stage's env file (`.env` or `.env.<stage>`), whether or not it exists.
    pub fn env_file(&self) -> PathBuf {
        env_file_for(&self.dir, &self.stage, &self.default_stage)
    }
}

impl Architecture {
    /// The name Lambda uses (`arm64`, `x86_64`).
    pub fn as_lambda(self) -> &'static str {
        match self {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        }
    }

    /// The static Linux target the function is built for.
    pub fn rust_target(self) -> &'static str {
        match self {
            Architecture::Arm64 => "aarch64-unknown-linux-musl",
            Architecture::X86_64 => "x86_64-unknown-linux-musl",
        }
    }

    /// The architecture of the machine this tool runs on, when Lambda has it.
    pub fn host() -> Option<Architecture> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Architecture::X86_64),
            "aarch64" => Some(Architecture::Arm64),
            _ => None,
        }
    }
}

impl std::fmt::Display for Architecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_lambda())
    }
}
