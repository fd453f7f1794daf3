//! `socket deploy`: converge one stage's AWS resources on what the manifest and the package want.
//!
//! Under the stage lock, with the code built (or read from `--package`): [`observe`] reads what
//! exists, [`plan`] lists the changes that close the difference from the [`Desired`] stage,
//! nothing more (an unchanged stage plans nothing and makes no write call), and `apply` makes
//! them in dependency order, recording each created resource at once. Then the outputs are
//! printed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::apply::Deployer;
use crate::aws::{dynamodb, lambda};
use crate::aws::{AwsError, Clients};
use crate::desired::{user_env_names, CodeBundle, Desired};
use crate::observe::{observe, Observed};
use crate::outputs::{CodeOutputs, OutputOptions, Outputs, RegistryOutputs};
use crate::plan::{plan, Plan};
use crate::state::{StageLock, State, StateError};
use socket_manifest::{Manifest, Overrides};
use socket_progress::Reporter;

/// Lambda's limit for a zip uploaded in the request itself.
const MAX_DIRECT_UPLOAD: usize = 50 * 1024 * 1024;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DeployError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Aws(#[from] AwsError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] StateError),

    #[error("cannot read the package {}: {source}", path.display())]
    #[diagnostic(
        code(socket::deploy::package),
        help("pass the zip that holds `bootstrap` (e.g. `.socket/<stage>/bootstrap.zip`), or leave out --package to build it")
    )]
    Package {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the package is {size} bytes; Lambda accepts at most 50 MB uploaded directly")]
    #[diagnostic(
        code(socket::deploy::too_large),
        help("build in release mode (socket does by default) and drop unused dependencies")
    )]
    PackageTooLarge { size: usize },

    #[error("{kind} `{name}` exists but does not belong to service `{service}`, stage `{stage}`")]
    #[diagnostic(
        code(socket::deploy::name_taken),
        help(
            "socket only manages resources tagged socket:service={service} and socket:stage={stage}; \
             rename the service (`name` in serverless.yml), choose another stage, or delete that {kind}"
        )
    )]
    NameTaken {
        kind: &'static str,
        name: String,
        service: String,
        stage: String,
    },

    #[error("domain `{domain}` is already mapped to another API ({api}, stage `{api_stage}`)")]
    #[diagnostic(
        code(socket::deploy::domain_taken),
        help(
            "a domain name serves the APIs mapped to it; name another domain in `domain.name`, \
             or delete that mapping (API Gateway › Custom domain names › {domain} › API mappings) and deploy again"
        )
    )]
    DomainTaken {
        domain: String,
        api: String,
        api_stage: String,
    },
}

/// What a deploy did, for outputs and the call count.
#[derive(Debug)]
pub struct DeployReport {
    pub outputs: Outputs,
    pub plan: Plan,
}

/// Converges the stage described by `manifest` on `code`. The caller holds the stage lock.
pub async fn deploy(
    manifest: &Manifest,
    clients: &Clients,
    code: &CodeBundle,
    reporter: Reporter,
) -> Result<DeployReport, DeployError> {
    let started = Instant::now();
    if code.zip.len() > MAX_DIRECT_UPLOAD {
        return Err(DeployError::PackageTooLarge {
            size: code.zip.len(),
        });
    }
    let desired = Desired::new(manifest, code);
    let names = &desired.names;
    let recorded = State::load(&manifest.dir, &names.service, &names.stage, &names.region);
    let (observed, plan) = read_plan(clients, &desired, recorded.as_ref(), reporter).await?;

    let mut deployer = Deployer::new(clients, &desired, code, reporter, &manifest.dir, recorded);
    deployer.carry_over(&observed, &plan);
    if !deployer.knows_account(&plan) {
        // Cannot happen (no role and no function means the role is created), but never guess.
        return Err(AwsError::NotReady {
            what: format!("the account of IAM role {}", names.role),
        }
        .into());
    }

    if plan.is_empty() {
        reporter.info("No changes: the stage already matches the manifest and the code.");
    }
    deployer.apply(&plan).await?;

    let host = crate::outputs::api_host(deployer.api_endpoint(), deployer.api_id(), &names.region);
    let outputs = Outputs {
        service: names.service.clone(),
        url: crate::outputs::url(&host, &names.stage),
        management_endpoint: crate::outputs::management_endpoint(&host, &names.stage),
        stage: names.stage.clone(),
        region: names.region.clone(),
        api_id: deployer.api_id().to_owned(),
        function_name: names.function.clone(),
        routes: crate::outputs::ordered_routes(desired.routes.iter().cloned()),
        code: CodeOutputs {
            runtime: lambda::RUNTIME.to_owned(),
            architecture: desired.architecture.as_lambda().to_owned(),
            memory: desired.memory,
            timeout: desired.timeout,
            env: user_env_names(desired.env.keys()),
        },
        registry: desired.registry.as_ref().map(|r| RegistryOutputs {
            table: r.table.clone(),
        }),
        domain: desired
            .domain
            .as_ref()
            .map(|wanted| crate::domain::outputs(wanted, deployer.domain())),
        changes: Some(plan.iter().map(|c| c.to_string()).collect()),
        elapsed_ms: Some(started.elapsed().as_millis() as u64),
    };
    Ok(DeployReport { outputs, plan })
}

/// Reads what exists of the stage and plans the changes towards `desired` (no write call):
/// what `deploy` applies and `deploy --dry-run` prints.
pub(crate) async fn read_plan(
    clients: &Clients,
    desired: &Desired,
    recorded: Option<&State>,
    reporter: Reporter,
) -> Result<(Observed, Plan), DeployError> {
    let names = &desired.names;
    let step = reporter.step(format!(
        "Reading {} › {} in {}",
        names.service, names.stage, names.region
    ));
    let observed = match observe_all(clients, desired, recorded).await {
        Ok(observed) => observed,
        Err(err) => {
            step.failed();
            return Err(err.into());
        }
    };
    // Someone else's table with the registry's name matters only when the registry is on.
    let in_the_way = observed
        .foreign
        .iter()
        .find(|(kind, _)| *kind != dynamodb::TABLE_KIND || desired.registry.is_some());
    if let Some((kind, name)) = in_the_way {
        step.failed();
        return Err(DeployError::NameTaken {
            kind,
            name: name.clone(),
            service: names.service.clone(),
            stage: names.stage.clone(),
        });
    }
    let api = observed.api.as_ref().map(|a| a.id.as_str());
    if let (Some(taken), Some(wanted)) = (observed.domains.mapped_elsewhere(api), &desired.domain) {
        step.failed();
        return Err(DeployError::DomainTaken {
            domain: wanted.name.clone(),
            api: taken.api_id.clone(),
            api_stage: taken.stage.clone(),
        });
    }
    let plan = plan(desired, &observed);
    step.done(if observed.is_empty() {
        "nothing deployed yet".to_owned()
    } else if plan.is_empty() {
        "up to date".to_owned()
    } else {
        format!(
            "{} change{}",
            plan.len(),
            if plan.len() == 1 { "" } else { "s" }
        )
    });
    Ok((observed, plan))
}

/// The code to deploy: the zip given with `--package`, else the handler crate built as
/// `socket package` does.
pub(crate) async fn code_bundle(
    manifest: &Manifest,
    package: Option<&Path>,
    reporter: Reporter,
) -> miette::Result<CodeBundle> {
    Ok(match package {
        Some(path) => CodeBundle::read(path, manifest.architecture)?,
        None => {
            // Building runs cargo (blocking, minutes when cold): off the async threads.
            let for_build = manifest.clone();
            let package =
                tokio::task::spawn_blocking(move || socket_build::package(&for_build, reporter))
                    .await
                    .expect("the build task does not panic")?;
            CodeBundle::read(&package.zip, package.architecture)?
        }
    })
}

/// What exists of the stage, with its authorizer, custom domain and function settings.
async fn observe_all(
    clients: &Clients,
    desired: &Desired,
    recorded: Option<&State>,
) -> Result<Observed, AwsError> {
    let names = &desired.names;
    let mut observed = observe(clients, names, recorded).await?;
    observed.authorizer = crate::authorizer::observe(clients, &observed).await?;
    observed.domains = crate::domain::observe(clients, names, desired.domain.as_ref()).await?;
    (observed.statements_policy, observed.reserved_concurrency) =
        crate::function_settings::observe(clients, &observed).await?;
    Ok(observed)
}

/// Options of `socket deploy`.
#[derive(Clone, Debug, Default)]
pub struct DeployOptions {
    /// Deploy this zip (holding `bootstrap`) instead of building the handler crate.
    pub package: Option<PathBuf>,
    pub output: OutputOptions,
}

/// `socket deploy`: load the manifest, take the stage lock, get the code, converge, print outputs.
pub async fn run(
    config: &Path,
    overrides: &Overrides,
    options: &DeployOptions,
) -> miette::Result<()> {
    let reporter = options.output.start();
    let manifest = Manifest::load(config, overrides)?;
    for warning in manifest.warnings() {
        reporter.info(format!("warning: {warning}"));
    }
    let _lock = StageLock::acquire(&manifest.dir, &manifest.stage, "deploy")?;
    // Credentials first: a missing key should not cost a build of several minutes.
    let clients = crate::aws::connect(&manifest).await?;
    let code = code_bundle(&manifest, options.package.as_deref(), reporter).await?;
    let result = deploy(&manifest, &clients, &code, reporter).await;
    tracing::debug!(target: "socket::aws", "{}", clients.calls.summary());
    let report = result?;
    report.outputs.print(options.output.json);
    Ok(())
}
