//! `serverless.yml`: the service's manifest, resolved for one stage.
//!
//! The types below are what every command works from. Loading, variables and
//! validation with line numbers live in this module too.

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
}
