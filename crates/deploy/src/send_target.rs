//! Where `socket send` delivers to a deployed stage: the stage's credentials (as static keys the
//! client signs with), its API (found as deploy finds it) and the endpoints derived from them.

use aws_sdk_lambda::config::ProvideCredentials;

use crate::aws::{AwsError, Clients};
use crate::names::StageNames;
use crate::observe::find_apis;
use crate::state::State;
use socket_manifest::Manifest;

/// The SDK's per-service override of the endpoint DynamoDB calls go to.
const DYNAMODB_ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_DYNAMODB";

/// A deployed stage, as a client outside any handler reaches it.
#[derive(Clone, Debug)]
pub struct SendTarget {
    pub api_id: String,
    /// `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}` (the API's own DNS zone).
    pub management_endpoint: String,
    /// `AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL` (a local AWS); `None` → DynamoDB in
    /// the region.
    pub dynamodb_endpoint: Option<String>,
    pub credentials: socket_client::Credentials,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SendTargetError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Aws(#[from] AwsError),

    #[error("stage `{stage}` of `{service}` is not deployed in {region}: run `socket deploy --stage {stage}`")]
    #[diagnostic(
        code(socket::send::not_deployed),
        help("deploy it first (or pass the region it was deployed to with --region), or send through a running `socket dev` with --local")
    )]
    NotDeployed {
        service: String,
        stage: String,
        region: String,
    },

    #[error("the AWS credentials of stage `{stage}` could not be read: {detail}")]
    #[diagnostic(
        code(socket::send::credentials),
        help("run `socket credentials --stage {stage}` to see where they come from")
    )]
    Credentials { stage: String, detail: String },
}

/// The stage's API, endpoints and credentials, read from AWS.
pub async fn resolve(manifest: &Manifest) -> miette::Result<SendTarget> {
    let config = crate::credentials::load(manifest).await?;
    let credentials = static_credentials(&config, &manifest.stage).await?;
    let clients = Clients::new(&config);
    let names = StageNames::of(manifest);
    let recorded = State::load(&manifest.dir, &names.service, &names.stage, &names.region);
    let api = find_apis(&clients, &names, recorded.as_ref())
        .await
        .map_err(SendTargetError::from)?
        .into_iter()
        .next()
        .ok_or_else(|| SendTargetError::NotDeployed {
            service: names.service.clone(),
            stage: names.stage.clone(),
            region: names.region.clone(),
        })?;
    let management_endpoint = names.management_endpoint(&api.id, &api.endpoint);
    let dynamodb_endpoint = std::env::var(DYNAMODB_ENDPOINT_ENV)
        .ok()
        .filter(|url| !url.is_empty())
        .or_else(|| config.endpoint_url().map(str::to_owned));
    Ok(SendTarget {
        api_id: api.id,
        management_endpoint,
        dynamodb_endpoint,
        credentials,
    })
}

/// Keys from whatever provider the stage uses (env file, profile, SSO, role), resolved now.
async fn static_credentials(
    config: &aws_config::SdkConfig,
    stage: &str,
) -> Result<socket_client::Credentials, SendTargetError> {
    let failed = |detail: String| SendTargetError::Credentials {
        stage: stage.to_owned(),
        detail,
    };
    let provider = config
        .credentials_provider()
        .ok_or_else(|| failed("no credentials provider".into()))?;
    let keys = provider
        .provide_credentials()
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(socket_client::Credentials {
        access_key_id: keys.access_key_id().to_owned(),
        secret_access_key: keys.secret_access_key().to_owned(),
        session_token: keys.session_token().map(str::to_owned),
    })
}
