//! The Lambda function (custom runtime `provided.al2023`, handler `bootstrap`) and the
//! permission that lets API Gateway invoke it.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture as LambdaArchitecture, Environment, FunctionCode, Runtime,
};
use serde_json::Value;

use super::{AwsError, Clients, SdkResultExt};
use socket_manifest::Architecture;

pub const RUNTIME: &str = "provided.al2023";
pub const HANDLER: &str = "bootstrap";
/// The statement id of the API Gateway permission on every function `socket` creates.
pub const PERMISSION_ID: &str = "socket-apigateway-invoke";

/// How often and how long to poll a function until it takes an update: Lambda applies a
/// create or an update in the background (seconds; minutes for a function in a VPC).
pub const READY_WAIT: WaitPolicy = WaitPolicy {
    interval: Duration::from_secs(2),
    max_polls: 150,
};

/// The configuration `socket` manages on a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSettings {
    pub role_arn: String,
    pub memory: u32,
    pub timeout: u32,
    pub env: BTreeMap<String, String>,
    pub description: String,
}

/// A function as it exists.
#[derive(Clone, Debug)]
pub struct Function {
    pub name: String,
    pub arn: String,
    pub runtime: String,
    pub handler: String,
    pub settings: FunctionSettings,
    pub architecture: Option<Architecture>,
    /// Base64 SHA-256 of the deployed zip, as Lambda reports it.
    pub code_sha256: String,
    pub tags: BTreeMap<String, String>,
}

impl Function {
    /// The names of the settings that differ from `want` (`memory`, `env`, ...).
    pub fn differences(&self, want: &FunctionSettings) -> Vec<&'static str> {
        let mut fields = Vec::new();
        let have = &self.settings;
        if self.runtime != RUNTIME {
            fields.push("runtime");
        }
        if self.handler != HANDLER {
            fields.push("handler");
        }
        if have.role_arn != want.role_arn {
            fields.push("role");
        }
        if have.memory != want.memory {
            fields.push("memory");
        }
        if have.timeout != want.timeout {
            fields.push("timeout");
        }
        if have.env != want.env {
            fields.push("env");
        }
        if have.description != want.description {
            fields.push("description");
        }
        fields
    }
}

fn lambda_architecture(arch: Architecture) -> LambdaArchitecture {
    match arch {
        Architecture::Arm64 => LambdaArchitecture::Arm64,
        Architecture::X86_64 => LambdaArchitecture::X8664,
    }
}

fn environment(env: &BTreeMap<String, String>) -> Environment {
    Environment::builder()
        .set_variables(Some(env.clone().into_iter().collect()))
        .build()
}

pub async fn get_function(clients: &Clients, name: &str) -> Result<Option<Function>, AwsError> {
    let Some(out) = clients
        .lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .found("lambda:GetFunction", clients)?
    else {
        return Ok(None);
    };
    let Some(config) = out.configuration() else {
        return Ok(None);
    };
    let architecture = config.architectures().first().map(|a| match a {
        LambdaArchitecture::X8664 => Architecture::X86_64,
        _ => Architecture::Arm64,
    });
    Ok(Some(Function {
        name: config.function_name().unwrap_or(name).to_owned(),
        arn: config.function_arn().unwrap_or_default().to_owned(),
        runtime: config
            .runtime()
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
        handler: config.handler().unwrap_or_default().to_owned(),
        settings: FunctionSettings {
            role_arn: config.role().unwrap_or_default().to_owned(),
            memory: config.memory_size().unwrap_or(128).max(0) as u32,
            timeout: config.timeout().unwrap_or(3).max(0) as u32,
            env: config
                .environment()
                .and_then(|e| e.variables())
                .map(|vars| vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            description: config.description().unwrap_or_default().to_owned(),
        },
        architecture,
        code_sha256: config.code_sha256().unwrap_or_default().to_owned(),
        tags: out
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
    }))
}

/// Whether CreateFunction failed because IAM has not yet propagated a new role.
fn role_not_ready(err: &AwsError) -> bool {
    matches!(err, AwsError::Failed { code, message, .. }
        if code == "InvalidParameterValueException" && message.contains("cannot be assumed"))
}

/// Creates the function, retrying while a just-created role is not yet assumable
/// (IAM is eventually consistent: this takes a few seconds after CreateRole), then waits
/// until the function is active.
#[allow(clippy::too_many_arguments)]
pub async fn create_function(
    clients: &Clients,
    name: &str,
    settings: &FunctionSettings,
    architecture: Architecture,
    zip: &[u8],
    tags: &BTreeMap<String, String>,
    mut on_retry: impl FnMut(u32),
) -> Result<String, AwsError> {
    let mut delay = Duration::from_millis(500);
    let give_up = std::time::Instant::now() + Duration::from_secs(120);
    let mut attempt = 1;
    let arn = loop {
        let result = clients
            .lambda
            .create_function()
            .function_name(name)
            .runtime(Runtime::Providedal2023)
            .handler(HANDLER)
            .role(&settings.role_arn)
            .architectures(lambda_architecture(architecture))
            .memory_size(settings.memory as i32)
            .timeout(settings.timeout as i32)
            .description(&settings.description)
            .environment(environment(&settings.env))
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(zip.to_vec()))
                    .build(),
            )
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .aws("lambda:CreateFunction", clients);
        match result {
            Ok(out) => break out.function_arn().unwrap_or_default().to_owned(),
            Err(err) if role_not_ready(&err) && std::time::Instant::now() < give_up => {
                attempt += 1;
                on_retry(attempt);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            Err(err) => return Err(err),
        }
    };
    Ok(arn)
}

pub async fn update_configuration(
    clients: &Clients,
    name: &str,
    settings: &FunctionSettings,
) -> Result<(), AwsError> {
    clients
        .lambda
        .update_function_configuration()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .handler(HANDLER)
        .role(&settings.role_arn)
        .memory_size(settings.memory as i32)
        .timeout(settings.timeout as i32)
        .description(&settings.description)
        .environment(environment(&settings.env))
        .send()
        .await
        .aws("lambda:UpdateFunctionConfiguration", clients)?;
    Ok(())
}

pub async fn update_code(
    clients: &Clients,
    name: &str,
    architecture: Architecture,
    zip: &[u8],
) -> Result<(), AwsError> {
    clients
        .lambda
        .update_function_code()
        .function_name(name)
        .architectures(lambda_architecture(architecture))
        .zip_file(Blob::new(zip.to_vec()))
        .send()
        .await
        .aws("lambda:UpdateFunctionCode", clients)?;
    Ok(())
}

/// When a function is waited for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    /// Before this run's first update: a failed earlier update does not block a new one.
    BeforeUpdate,
    /// After this run created or updated it: a failure is this run's to report.
    AfterChange,
}

/// Whether a function takes an update now, from GetFunctionConfiguration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Why not yet ("an update is in progress").
    Waiting(String),
    /// Lambda's reason.
    Failed(String),
}

/// A function's `State` and `LastUpdateStatus` (with their reasons), as Lambda reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionStatus {
    pub state: Option<String>,
    pub state_reason: Option<String>,
    pub last_update: Option<String>,
    pub last_update_reason: Option<String>,
}

impl FunctionStatus {
    pub fn readiness(&self, moment: Moment) -> Readiness {
        let reason = |r: &Option<String>, fallback: &str| {
            r.clone()
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| fallback.to_owned())
        };
        match (self.state.as_deref(), self.last_update.as_deref()) {
            (Some("Pending"), _) => Readiness::Waiting("the function is being created".into()),
            (_, Some("InProgress")) => Readiness::Waiting("an update is in progress".into()),
            (Some("Failed"), _) if moment == Moment::AfterChange => {
                Readiness::Failed(reason(&self.state_reason, "the function failed to start"))
            }
            (_, Some("Failed")) if moment == Moment::AfterChange => {
                Readiness::Failed(reason(&self.last_update_reason, "the update failed"))
            }
            _ => Readiness::Ready,
        }
    }
}

/// How often and how many times to poll.
#[derive(Clone, Copy, Debug)]
pub struct WaitPolicy {
    pub interval: Duration,
    pub max_polls: u32,
}

/// Polls until the function takes an update: `poll` reads its status, `on_wait` hears why it
/// is not ready yet and how many polls that took. Bounded by `policy`.
pub async fn wait_until_ready<Poll, Fut>(
    name: &str,
    moment: Moment,
    policy: WaitPolicy,
    mut poll: Poll,
    mut on_wait: impl FnMut(&str, u32),
) -> Result<(), AwsError>
where
    Poll: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<FunctionStatus, AwsError>>,
{
    for attempt in 1..=policy.max_polls {
        match poll().await?.readiness(moment) {
            Readiness::Ready => return Ok(()),
            Readiness::Failed(reason) => {
                return Err(AwsError::FunctionFailed {
                    name: name.to_owned(),
                    reason,
                })
            }
            Readiness::Waiting(why) => {
                on_wait(&why, attempt);
                tokio::time::sleep(policy.interval).await;
            }
        }
    }
    Err(AwsError::NotReady {
        what: format!("Lambda function {name}"),
    })
}

pub async fn status(clients: &Clients, name: &str) -> Result<FunctionStatus, AwsError> {
    let out = clients
        .lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
        .aws("lambda:GetFunctionConfiguration", clients)?;
    Ok(FunctionStatus {
        state: out.state().map(|s| s.as_str().to_owned()),
        state_reason: out.state_reason().map(str::to_owned),
        last_update: out.last_update_status().map(|s| s.as_str().to_owned()),
        last_update_reason: out.last_update_status_reason().map(str::to_owned),
    })
}

/// Waits until the function takes an update (see [`wait_until_ready`]).
pub async fn wait_ready(
    clients: &Clients,
    name: &str,
    moment: Moment,
    on_wait: impl FnMut(&str, u32),
) -> Result<(), AwsError> {
    wait_until_ready(name, moment, READY_WAIT, || status(clients, name), on_wait).await
}

pub async fn delete_function(clients: &Clients, name: &str) -> Result<bool, AwsError> {
    let out = clients
        .lambda
        .delete_function()
        .function_name(name)
        .send()
        .await
        .found("lambda:DeleteFunction", clients)?;
    Ok(out.is_some())
}

/// The source ARN of `socket`'s API Gateway permission on the function, if it has one.
pub async fn permission_source(clients: &Clients, name: &str) -> Result<Option<String>, AwsError> {
    let Some(out) = clients
        .lambda
        .get_policy()
        .function_name(name)
        .send()
        .await
        .found("lambda:GetPolicy", clients)?
    else {
        return Ok(None);
    };
    let policy: Value = out
        .policy()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_default();
    let statements = policy["Statement"].as_array().cloned().unwrap_or_default();
    Ok(statements
        .iter()
        .find(|s| s["Sid"] == PERMISSION_ID)
        .map(|s| {
            s["Condition"]["ArnLike"]["AWS:SourceArn"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }))
}

/// Lets API Gateway invoke the function from `source_arn` (`arn:…:execute-api:…:{apiId}/*`).
pub async fn add_permission(
    clients: &Clients,
    name: &str,
    source_arn: &str,
) -> Result<(), AwsError> {
    clients
        .lambda
        .add_permission()
        .function_name(name)
        .statement_id(PERMISSION_ID)
        .action("lambda:InvokeFunction")
        .principal("apigateway.amazonaws.com")
        .source_arn(source_arn)
        .send()
        .await
        .aws("lambda:AddPermission", clients)?;
    Ok(())
}

pub async fn remove_permission(clients: &Clients, name: &str) -> Result<(), AwsError> {
    clients
        .lambda
        .remove_permission()
        .function_name(name)
        .statement_id(PERMISSION_ID)
        .send()
        .await
        .found("lambda:RemovePermission", clients)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: &str, last_update: &str, reason: &str) -> FunctionStatus {
        FunctionStatus {
            state: Some(state.to_owned()),
            state_reason: None,
            last_update: Some(last_update.to_owned()),
            last_update_reason: Some(reason.to_owned()).filter(|r| !r.is_empty()),
        }
    }

    /// Runs the wait over `seen` (one status per poll); returns the result and the waits heard.
    fn wait(
        moment: Moment,
        seen: Vec<FunctionStatus>,
        max_polls: u32,
    ) -> (Result<(), AwsError>, Vec<(String, u32)>, usize) {
        let policy = WaitPolicy {
            interval: Duration::ZERO,
            max_polls,
        };
        let mut polls = 0;
        let mut heard = Vec::new();
        let result = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(wait_until_ready(
                "echo-dev",
                moment,
                policy,
                || {
                    let next = seen
                        .get(polls)
                        .cloned()
                        .expect("no poll past the last status");
                    polls += 1;
                    async move { Ok(next) }
                },
                |why, attempt| heard.push((why.to_owned(), attempt)),
            ));
        (result, heard, polls)
    }

    #[test]
    fn an_update_in_progress_is_waited_out_before_the_first_update() {
        let (result, heard, polls) = wait(
            Moment::BeforeUpdate,
            vec![
                status("Active", "InProgress", ""),
                status("Active", "InProgress", ""),
                status("Active", "Successful", ""),
            ],
            10,
        );
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(polls, 3);
        assert_eq!(
            heard,
            vec![
                ("an update is in progress".to_owned(), 1),
                ("an update is in progress".to_owned(), 2)
            ]
        );
    }

    #[test]
    fn a_new_function_is_waited_for_until_active() {
        let (result, heard, _) = wait(
            Moment::AfterChange,
            vec![
                status("Pending", "InProgress", ""),
                status("Active", "Successful", ""),
            ],
            10,
        );
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(heard[0].0, "the function is being created");
    }

    #[test]
    fn a_failed_update_is_reported_with_lambdas_reason_after_a_change_only() {
        let failed = status("Active", "Failed", "The role cannot be assumed by Lambda.");
        let (result, _, _) = wait(
            Moment::AfterChange,
            vec![status("Active", "InProgress", ""), failed.clone()],
            10,
        );
        match result {
            Err(AwsError::FunctionFailed { name, reason }) => {
                assert_eq!(name, "echo-dev");
                assert_eq!(reason, "The role cannot be assumed by Lambda.");
            }
            other => panic!("{other:?}"),
        }
        // An earlier failed update does not stop this run from updating again.
        let (result, heard, _) = wait(Moment::BeforeUpdate, vec![failed], 10);
        assert!(result.is_ok() && heard.is_empty(), "{result:?}");
    }

    #[test]
    fn the_wait_is_bounded() {
        let stuck = vec![status("Active", "InProgress", ""); 3];
        let (result, heard, polls) = wait(Moment::BeforeUpdate, stuck, 3);
        assert!(
            matches!(result, Err(AwsError::NotReady { .. })),
            "{result:?}"
        );
        assert_eq!((polls, heard.len()), (3, 3));
    }

    #[test]
    fn a_settled_function_needs_one_read() {
        let (result, heard, polls) = wait(
            Moment::BeforeUpdate,
            vec![status("Active", "Successful", "")],
            3,
        );
        assert!(result.is_ok());
        assert_eq!((polls, heard.len()), (1, 0));
    }
}
