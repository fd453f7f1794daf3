//! `socket info`: the outputs of a deployed stage, read from AWS (not from the state file), so
//! they show what is really there.

use crate::aws::{AwsError, Clients};
use crate::desired::user_env_names;
use crate::names::StageNames;
use crate::observe::observe;
use std::path::Path;

use crate::outputs::{self, CodeOutputs, Outputs, RegistryOutputs};
use crate::state::State;
use socket_manifest::{Architecture, Manifest, Overrides};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum InfoError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Aws(#[from] AwsError),

    #[error("stage `{stage}` of `{service}` is not deployed in {region}")]
    #[diagnostic(
        code(socket::info::not_deployed),
        help("deploy it with `socket deploy --stage {stage}` (or pass the region it was deployed to with --region)")
    )]
    NotDeployed {
        service: String,
        stage: String,
        region: String,
    },

    #[error("stage `{stage}` of `{service}` is only partly deployed: no {missing}")]
    #[diagnostic(
        code(socket::info::incomplete),
        help("a deploy did not finish; run `socket deploy --stage {stage}` to complete it")
    )]
    Incomplete {
        service: String,
        stage: String,
        missing: &'static str,
    },
}

/// Options of `socket info`.
#[derive(Clone, Debug, Default)]
pub struct InfoOptions {
    pub output: crate::outputs::OutputOptions,
}

/// `socket info`.
pub async fn run(
    config: &Path,
    overrides: &Overrides,
    options: &InfoOptions,
) -> miette::Result<()> {
    options.output.start();
    let manifest = Manifest::load(config, overrides)?;
    let clients = crate::aws::connect(&manifest).await?;
    let outputs = info(&manifest, &clients).await?;
    outputs.print(options.output.json);
    Ok(())
}

pub async fn info(manifest: &Manifest, clients: &Clients) -> Result<Outputs, InfoError> {
    let names = StageNames::of(manifest);
    let recorded = State::load(&manifest.dir, &names.service, &names.stage, &names.region);
    let observed = observe(clients, &names, recorded.as_ref()).await?;
    let (api, function) = match (&observed.api, &observed.function) {
        (Some(api), Some(function)) => (api, function),
        (None, None) => {
            return Err(InfoError::NotDeployed {
                service: names.service,
                stage: names.stage,
                region: names.region,
            })
        }
        (None, _) => {
            return Err(InfoError::Incomplete {
                service: names.service,
                stage: names.stage,
                missing: "API",
            })
        }
        (_, None) => {
            return Err(InfoError::Incomplete {
                service: names.service,
                stage: names.stage,
                missing: "function",
            })
        }
    };
    let domain = match &manifest.domain {
        Some(wanted) => {
            let domains = crate::domain::observe(clients, &names, Some(wanted)).await?;
            Some(crate::domain::outputs(wanted, domains.named(&wanted.name)))
        }
        None => None,
    };
    let host = outputs::api_host(&api.endpoint, &api.id, &names.region);
    Ok(Outputs {
        domain,
        url: outputs::url(&host, &names.stage),
        management_endpoint: outputs::management_endpoint(&host, &names.stage),
        api_id: api.id.clone(),
        function_name: function.name.clone(),
        routes: outputs::ordered_routes(observed.routes.iter().map(|r| r.key.clone())),
        code: CodeOutputs {
            runtime: function.runtime.clone(),
            architecture: function
                .architecture
                .map(Architecture::as_lambda)
                .unwrap_or("unknown")
                .to_owned(),
            memory: function.settings.memory,
            timeout: function.settings.timeout,
            env: user_env_names(function.settings.env.keys()),
        },
        registry: observed.table.as_ref().map(|table| RegistryOutputs {
            table: table.name.clone(),
        }),
        service: names.service,
        stage: names.stage,
        region: names.region,
        changes: None,
        elapsed_ms: None,
    })
}
