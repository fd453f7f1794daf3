//! The Lambda function (custom runtime `provided.al2023`, handler `bootstrap`) and the
//! permission that lets API Gateway invoke it.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture as LambdaArchitecture, Environment, FunctionCode, Runtime,
};
use serde_json::Value;

pub use super::lambda_readiness::{wait_ready, Moment, READY_WAIT};
use super::{AwsError, Clients, SdkResultExt};
use socket_manifest::Architecture;

pub const RUNTIME: &str = "provided.al2023";
pub const HANDLER: &str = "bootstrap";
/// The statement id of the API Gateway permission on every function `socket` creates.
pub const PERMISSION_ID: &str = "socket-apigateway-invoke";

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
    statement_source(clients, name, PERMISSION_ID).await
}

/// The source ARN of the function policy's statement `sid`, if it has one.
pub async fn statement_source(
    clients: &Clients,
    name: &str,
    sid: &str,
) -> Result<Option<String>, AwsError> {
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
    Ok(statements.iter().find(|s| s["Sid"] == sid).map(|s| {
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
    add_statement(clients, name, PERMISSION_ID, source_arn).await
}

/// Lets API Gateway invoke the function from `source_arn`, as statement `sid`.
pub async fn add_statement(
    clients: &Clients,
    name: &str,
    sid: &str,
    source_arn: &str,
) -> Result<(), AwsError> {
    clients
        .lambda
        .add_permission()
        .function_name(name)
        .statement_id(sid)
        .action("lambda:InvokeFunction")
        .principal("apigateway.amazonaws.com")
        .source_arn(source_arn)
        .send()
        .await
        .aws("lambda:AddPermission", clients)?;
    Ok(())
}

pub async fn remove_permission(clients: &Clients, name: &str) -> Result<(), AwsError> {
    remove_statement(clients, name, PERMISSION_ID).await
}

/// Removes the function policy's statement `sid` (nothing if it is gone).
pub async fn remove_statement(clients: &Clients, name: &str, sid: &str) -> Result<(), AwsError> {
    clients
        .lambda
        .remove_permission()
        .function_name(name)
        .statement_id(sid)
        .send()
        .await
        .found("lambda:RemovePermission", clients)?;
    Ok(())
}

/// The concurrent executions reserved for the function, if any.
pub async fn reserved_concurrency(clients: &Clients, name: &str) -> Result<Option<u32>, AwsError> {
    let out = clients
        .lambda
        .get_function_concurrency()
        .function_name(name)
        .send()
        .await
        .found("lambda:GetFunctionConcurrency", clients)?;
    Ok(out
        .and_then(|o| o.reserved_concurrent_executions())
        .map(|n| n.max(0) as u32))
}

pub async fn put_reserved_concurrency(
    clients: &Clients,
    name: &str,
    executions: u32,
) -> Result<(), AwsError> {
    clients
        .lambda
        .put_function_concurrency()
        .function_name(name)
        .reserved_concurrent_executions(executions as i32)
        .send()
        .await
        .aws("lambda:PutFunctionConcurrency", clients)?;
    Ok(())
}

/// Returns the function to the account's unreserved pool.
pub async fn delete_reserved_concurrency(clients: &Clients, name: &str) -> Result<(), AwsError> {
    clients
        .lambda
        .delete_function_concurrency()
        .function_name(name)
        .send()
        .await
        .found("lambda:DeleteFunctionConcurrency", clients)?;
    Ok(())
}
