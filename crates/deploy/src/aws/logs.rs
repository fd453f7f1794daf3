//! The function's CloudWatch log group, which Lambda creates on the first invocation and
//! nobody deletes unless asked: `remove` does, so a removed stage stops costing storage.

use super::{AwsError, Clients, SdkResultExt};

/// `/aws/lambda/{function}`.
pub fn log_group_of(function: &str) -> String {
    format!("/aws/lambda/{function}")
}

pub async fn log_group_exists(clients: &Clients, name: &str) -> Result<bool, AwsError> {
    let out = clients
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .aws("logs:DescribeLogGroups", clients)?;
    Ok(out
        .log_groups()
        .iter()
        .any(|g| g.log_group_name() == Some(name)))
}

/// Deletes the log group; `false` if there was none.
pub async fn delete_log_group(clients: &Clients, name: &str) -> Result<bool, AwsError> {
    let out = clients
        .logs
        .delete_log_group()
        .log_group_name(name)
        .send()
        .await
        .found("logs:DeleteLogGroup", clients)?;
    Ok(out.is_some())
}
