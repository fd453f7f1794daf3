//! What the stage should look like: the manifest's settings and the built code, in the shape
//! the AWS resources take.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::aws::lambda::FunctionSettings;
use crate::deploy::DeployError;
use crate::names::StageNames;
use socket_manifest::{Architecture, Domain, Manifest, Registry, Statement};
/// The environment variable that gives the runtime its management API endpoint.
pub use socket_protocol::env::MANAGEMENT_ENDPOINT as MANAGEMENT_ENDPOINT_ENV;
use socket_protocol::env::{REGISTRY_TABLE, REGISTRY_TTL};

/// The environment variable that tells the runtime the route selection expression.
pub use socket_protocol::env::ROUTE_SELECTION as ROUTE_SELECTION_ENV;
/// The routes every WebSocket API has.
pub const BUILTIN_ROUTES: [&str; 3] = ["$connect", "$disconnect", "$default"];

/// The zip Lambda runs: `bootstrap` only.
#[derive(Clone, Debug)]
pub struct CodeBundle {
    pub zip: Vec<u8>,
    /// Base64 SHA-256 of `zip`, as Lambda reports `CodeSha256`.
    pub code_sha256: String,
    pub architecture: Architecture,
}

impl CodeBundle {
    pub fn new(zip: Vec<u8>, architecture: Architecture) -> Self {
        let code_sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zip));
        CodeBundle {
            zip,
            code_sha256,
            architecture,
        }
    }

    /// A zip built earlier (`--package PATH`).
    pub fn read(path: &Path, architecture: Architecture) -> Result<Self, DeployError> {
        let zip = std::fs::read(path).map_err(|source| DeployError::Package {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self::new(zip, architecture))
    }
}

/// What the stage should look like.
#[derive(Clone, Debug)]
pub struct Desired {
    pub names: StageNames,
    pub route_selection: String,
    pub description: String,
    /// `$connect`, `$disconnect`, `$default` and the manifest's routes.
    pub routes: BTreeSet<String>,
    pub memory: u32,
    pub timeout: u32,
    /// The manifest's env plus what the runtime needs.
    pub env: BTreeMap<String, String>,
    pub architecture: Architecture,
    pub code_sha256: String,
    /// Days the function's log group keeps records.
    pub log_retention: u32,
    /// The tags every resource carries: the manifest's `tags:` and `socket:service`,
    /// `socket:stage` (which the manifest cannot set).
    pub tags: BTreeMap<String, String>,
    /// The manifest's IAM statements for the function's role.
    pub statements: Vec<Statement>,
    /// Concurrent executions reserved for the function.
    pub reserved_concurrency: Option<u32>,
    /// The connection registry (`connections:`): its table, and the TTL the runtime gives records.
    pub registry: Option<Registry>,
    /// The `$connect` authorizer's identity sources, when there is one.
    pub authorizer: Option<Vec<String>>,
    /// The custom domain, when there is one.
    pub domain: Option<Domain>,
}

impl Desired {
    pub fn new(manifest: &Manifest, code: &CodeBundle) -> Self {
        let mut env = manifest.env.clone();
        env.insert(
            ROUTE_SELECTION_ENV.to_owned(),
            manifest.route_selection.clone(),
        );
        if let Some(registry) = &manifest.connections {
            env.insert(REGISTRY_TABLE.to_owned(), registry.table.clone());
            env.insert(REGISTRY_TTL.to_owned(), registry.ttl.to_string());
        }
        let mut routes: BTreeSet<String> = BUILTIN_ROUTES.iter().map(|r| r.to_string()).collect();
        routes.extend(manifest.routes.iter().cloned());
        let names = StageNames::of(manifest);
        let mut tags = manifest.tags.clone();
        tags.extend(names.tags());
        Desired {
            tags,
            statements: manifest.statements.clone(),
            reserved_concurrency: manifest.reserved_concurrency,
            names,
            route_selection: manifest.route_selection.clone(),
            description: manifest.description.clone().unwrap_or_default(),
            routes,
            memory: manifest.memory,
            timeout: manifest.timeout,
            env,
            architecture: code.architecture,
            code_sha256: code.code_sha256.clone(),
            log_retention: manifest.log_retention,
            registry: manifest.connections.clone(),
            authorizer: manifest
                .authorizer
                .as_ref()
                .map(|a| a.identity_sources.clone()),
            domain: manifest.domain.clone(),
        }
    }

    /// The function's configuration, running as `role_arn`, serving the API `api_id` (whose
    /// reported `ApiEndpoint` is `api_endpoint`, empty if unknown): the
    /// runtime gets the API's own management endpoint (`SOCKET_MANAGEMENT_ENDPOINT`), so its
    /// sends never depend on the domain a client connected through (a custom domain has no
    /// `@connections`).
    pub fn settings(
        &self,
        role_arn: &str,
        api_id: Option<&str>,
        api_endpoint: &str,
    ) -> FunctionSettings {
        let mut env = self.env.clone();
        if let Some(api_id) = api_id {
            env.insert(
                MANAGEMENT_ENDPOINT_ENV.to_owned(),
                self.names.management_endpoint(api_id, api_endpoint),
            );
        }
        FunctionSettings {
            role_arn: role_arn.to_owned(),
            memory: self.memory,
            timeout: self.timeout,
            env,
            description: self.description.clone(),
        }
    }
}

/// The user's environment variable names (not the ones `socket` adds for the runtime).
pub fn user_env_names<'a>(names: impl Iterator<Item = &'a String>) -> Vec<String> {
    names
        .filter(|n| {
            ![
                ROUTE_SELECTION_ENV,
                REGISTRY_TABLE,
                REGISTRY_TTL,
                MANAGEMENT_ENDPOINT_ENV,
            ]
            .contains(&n.as_str())
        })
        .cloned()
        .collect()
}
