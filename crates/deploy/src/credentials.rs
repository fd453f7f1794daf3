//! AWS credentials for a stage: the stage's `.env` file, then the standard AWS chain.
//!
//! Precedence, per variable:
//! 1. the process environment (`AWS_ACCESS_KEY_ID=… socket deploy`, CI secrets);
//! 2. the stage's env file: `.env` for the manifest's default stage, `.env.<stage>` for any other,
//!    read from the manifest's folder (never both: `.env` is not a fallback for `prod`);
//! 3. the rest of the AWS SDK's default chain: `AWS_PROFILE`/`~/.aws/config` and
//!    `~/.aws/credentials`, SSO, `credential_process`, web identity, container and instance roles.
//!
//! The process environment wins as it does with dotenv everywhere, so a CI job can override a
//! committed-by-mistake or local file without editing it; when it overrides an AWS variable the
//! file sets, a warning names the variable (never the value). The file may set
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, `AWS_PROFILE`,
//! `AWS_ENDPOINT_URL` and `AWS_REGION`. The region is the manifest's (`--region` > `region:` >
//! `AWS_REGION` > us-east-1). `AWS_ENDPOINT_URL` (and the SDK's per-service variants) in the
//! process environment are read by the SDK itself, exactly as it defines them.
//!
//! Credentials are resolved before anything else so that "none found" is reported up front, with
//! the places looked at. No secret value is ever printed or logged.

use std::collections::BTreeMap;
use std::path::PathBuf;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_lambda::config::{Credentials, ProvideCredentials};
use miette::Diagnostic;

use socket_manifest::{process_env, Manifest, ManifestError, StageEnv};

/// Where the credentials a stage uses come from (for messages; holds no secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    /// Access keys from the stage's env file.
    EnvFile(PathBuf),
    /// Access keys from the process environment.
    ProcessEnv,
    /// The SDK's default chain (profile, SSO, process, roles).
    DefaultChain,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum CredentialsError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    EnvFile(#[from] ManifestError),

    #[error("{file} sets {set} but not {missing}")]
    #[diagnostic(
        code(socket::credentials::incomplete),
        help("set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in {file}, or neither")
    )]
    Incomplete {
        file: String,
        set: &'static str,
        missing: &'static str,
    },

    #[error("no AWS credentials found for stage `{stage}`\n  looked in:\n{looked}\n  the AWS chain said: {detail}")]
    #[diagnostic(
        code(socket::credentials::not_found),
        help(
            "put AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in {env_file} (see .env.example), \
             or export them, or set AWS_PROFILE to a profile in ~/.aws/config (`aws configure` / `aws sso login`)"
        )
    )]
    NotFound {
        stage: String,
        env_file: String,
        looked: String,
        detail: String,
    },
}

/// A stage's SDK configuration with credentials resolved, from the process environment.
pub async fn load(manifest: &Manifest) -> Result<SdkConfig, CredentialsError> {
    load_with_env(manifest, process_env())
        .await
        .map(|(config, _)| config)
}

/// [`load`] with an explicit process environment; also says where the credentials came from.
pub async fn load_with_env(
    manifest: &Manifest,
    process: BTreeMap<String, String>,
) -> Result<(SdkConfig, CredentialSource), CredentialsError> {
    let env = StageEnv::load(
        &manifest.dir,
        &manifest.stage,
        &manifest.default_stage,
        process,
    )?;
    let file_name = env
        .file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    for name in env.overridden() {
        if name.starts_with("AWS_") {
            eprintln!("  warning: {name} from the environment overrides the one in {file_name}");
        }
    }

    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(crate::aws::http_client())
        .region(Region::new(manifest.region.clone()));
    // `--profile` is the user's explicit choice: it wins over keys from anywhere.
    let keys = |name| env.get(name).filter(|_| manifest.profile.is_none());
    let key = keys("AWS_ACCESS_KEY_ID");
    let secret = keys("AWS_SECRET_ACCESS_KEY");
    let source = match (key, secret) {
        (Some(key), Some(secret)) => {
            let from_file = [
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
            ]
            .iter()
            .any(|v| env.source(v) == Some(socket_manifest::stage_env::Source::File));
            let token = env.get("AWS_SESSION_TOKEN").map(str::to_string);
            let provider = if from_file {
                "socket-env-file"
            } else {
                "socket-process-env"
            };
            loader =
                loader.credentials_provider(Credentials::new(key, secret, token, None, provider));
            if from_file {
                CredentialSource::EnvFile(env.file.clone())
            } else {
                CredentialSource::ProcessEnv
            }
        }
        (Some(_), None) => {
            return Err(CredentialsError::Incomplete {
                file: file_name,
                set: "AWS_ACCESS_KEY_ID",
                missing: "AWS_SECRET_ACCESS_KEY",
            })
        }
        (None, Some(_)) => {
            return Err(CredentialsError::Incomplete {
                file: file_name,
                set: "AWS_SECRET_ACCESS_KEY",
                missing: "AWS_ACCESS_KEY_ID",
            })
        }
        (None, None) => {
            if let Some(profile) = &manifest.profile {
                // The default chain would still take keys from the environment first.
                let provider_config = aws_config::provider_config::ProviderConfig::default()
                    .with_http_client(crate::aws::http_client())
                    .with_region(Some(Region::new(manifest.region.clone())));
                let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .configure(&provider_config)
                    .profile_name(profile)
                    .build();
                loader = loader.profile_name(profile).credentials_provider(provider);
            } else if let Some(profile) = env.get("AWS_PROFILE") {
                loader = loader.profile_name(profile);
            }
            CredentialSource::DefaultChain
        }
    };
    // The SDK reads the process environment's endpoint itself; the file's needs passing on.
    if env.source("AWS_ENDPOINT_URL") == Some(socket_manifest::stage_env::Source::File) {
        if let Some(url) = env.get("AWS_ENDPOINT_URL") {
            loader = loader.endpoint_url(url);
        }
    }
    let config = loader.load().await;

    let resolved = match config.credentials_provider() {
        Some(provider) => provider
            .provide_credentials()
            .await
            .map(|_| ())
            .map_err(|e| chain_message(&e)),
        None => Err("no credentials provider".to_string()),
    };
    if let Err(detail) = resolved {
        return Err(CredentialsError::NotFound {
            stage: manifest.stage.clone(),
            env_file: file_name.clone(),
            looked: looked_at(manifest, &env),
            detail,
        });
    }
    Ok((config, source))
}

/// The error and its causes on one line (the SDK's messages hold no secrets).
fn chain_message(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ")
}

/// The profile to use: `--profile`, else `AWS_PROFILE`.
fn profile_of<'a>(manifest: &'a Manifest, env: &'a StageEnv) -> Option<&'a str> {
    manifest
        .profile
        .as_deref()
        .or_else(|| env.get("AWS_PROFILE"))
}

fn looked_at(manifest: &Manifest, env: &StageEnv) -> String {
    let file = if env.file_found {
        let names: Vec<&str> = env.file_names().filter(|n| n.starts_with("AWS_")).collect();
        if names.is_empty() {
            format!("{} (found, no AWS_* variables)", env.file.display())
        } else {
            format!("{} (found: {})", env.file.display(), names.join(", "))
        }
    } else {
        format!("{} (not found)", env.file.display())
    };
    if let Some(profile) = &manifest.profile {
        return format!(
            "    - profile `{profile}` (--profile) in ~/.aws/credentials and ~/.aws/config (incl. SSO, credential_process)"
        );
    }
    let profile = profile_of(manifest, env).unwrap_or("default");
    [
        file,
        "environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (not set)".to_string(),
        format!("profile `{profile}` in ~/.aws/credentials and ~/.aws/config (incl. SSO, credential_process)"),
        "web identity token, container credentials, EC2 instance role".to_string(),
    ]
    .iter()
    .map(|l| format!("    - {l}"))
    .collect::<Vec<_>>()
    .join("\n")
}

/// `AKIA…WXYZ`: enough to tell keys apart, never the secret.
pub fn mask_key_id(key: &str) -> String {
    if key.len() <= 8 {
        "****".to_string()
    } else {
        format!("{}…{}", &key[..4], &key[key.len() - 4..])
    }
}

/// What `socket credentials` prints: where a stage's credentials come from, never a secret.
pub async fn describe(manifest: &Manifest) -> Result<CredentialsReport, CredentialsError> {
    let (config, source) = load_with_env(manifest, process_env()).await?;
    let key_id = match config.credentials_provider() {
        Some(p) => p
            .provide_credentials()
            .await
            .map(|c| mask_key_id(c.access_key_id()))
            .unwrap_or_default(),
        None => String::new(),
    };
    let env_file = manifest.env_file();
    let source = match source {
        CredentialSource::EnvFile(path) => format!("{}", path.display()),
        CredentialSource::ProcessEnv => "process environment".to_string(),
        CredentialSource::DefaultChain => {
            "AWS default chain (profile, SSO, credential_process, roles)".to_string()
        }
    };
    Ok(CredentialsReport {
        stage: manifest.stage.clone(),
        env_file_found: env_file.is_file(),
        env_file,
        source,
        key_id,
        region: manifest.region.clone(),
        endpoint: config.endpoint_url().map(str::to_string),
    })
}

/// Where a stage's credentials come from, as `socket credentials` shows it: the key id masked,
/// never the secret.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialsReport {
    pub stage: String,
    pub env_file: PathBuf,
    pub env_file_found: bool,
    /// The env file, the process environment or the AWS default chain.
    pub source: String,
    /// The access key id, masked: its first and last four characters.
    pub key_id: String,
    pub region: String,
    /// `AWS_ENDPOINT_URL` when the SDK is pointed away from AWS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

impl CredentialsReport {
    /// The lines `socket credentials` prints.
    pub fn text(&self) -> String {
        let file_state = if self.env_file_found {
            "found"
        } else {
            "not found"
        };
        let mut out = format!(
            "stage:     {}\nenv file:  {} ({file_state})\nsource:    {}\nkey id:    {}\nregion:    {}\n",
            self.stage,
            self.env_file.display(),
            self.source,
            self.key_id,
            self.region,
        );
        if let Some(url) = &self.endpoint {
            out.push_str(&format!("endpoint:  {url}\n"));
        }
        out
    }
}

/// The access keys a stage's SDK configuration resolves to (`socket dev --aws` hands them to
/// the local workers). `Debug` shows the masked key id only.
#[derive(Clone)]
pub struct StageKeys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub source: CredentialSource,
}

impl std::fmt::Debug for StageKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageKeys")
            .field("access_key_id", &mask_key_id(&self.access_key_id))
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// The stage's credentials, found as `socket deploy` finds them (process environment, the
/// stage's env file, the AWS chain), resolved to keys.
pub async fn stage_keys(manifest: &Manifest) -> Result<StageKeys, CredentialsError> {
    let (config, source) = load_with_env(manifest, process_env()).await?;
    let not_found = |detail: String| CredentialsError::NotFound {
        stage: manifest.stage.clone(),
        env_file: manifest
            .env_file()
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        looked: String::new(),
        detail,
    };
    let provider = config
        .credentials_provider()
        .ok_or_else(|| not_found("no credentials provider".into()))?;
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|e| not_found(chain_message(&e)))?;
    Ok(StageKeys {
        access_key_id: credentials.access_key_id().to_owned(),
        secret_access_key: credentials.secret_access_key().to_owned(),
        session_token: credentials.session_token().map(str::to_owned),
        source,
    })
}
