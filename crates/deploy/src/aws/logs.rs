//! The function's CloudWatch log group: created by deploy (tagged, with the manifest's
//! retention) before Lambda would create it untagged and never-expiring on the first
//! invocation; deleted by `remove`, so a removed stage stops costing storage; read by
//! `socket logs`.

use std::collections::BTreeMap;

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

/// The function's log group as it exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogGroup {
    pub name: String,
    /// Without the `:*` suffix: what the tagging calls take.
    pub arn: String,
    /// `None`: never expire (CloudWatch's default).
    pub retention_days: Option<u32>,
    pub tags: BTreeMap<String, String>,
}

/// The log group named `name`, with its retention and tags.
pub async fn get_log_group(clients: &Clients, name: &str) -> Result<Option<LogGroup>, AwsError> {
    let out = clients
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .aws("logs:DescribeLogGroups", clients)?;
    let Some(group) = out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
    else {
        return Ok(None);
    };
    let arn = group
        .log_group_arn()
        .map(str::to_owned)
        .or_else(|| group.arn().map(|a| a.trim_end_matches(":*").to_owned()))
        .unwrap_or_default();
    let tags = clients
        .logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .aws("logs:ListTagsForResource", clients)?
        .tags
        .unwrap_or_default()
        .into_iter()
        .collect();
    Ok(Some(LogGroup {
        name: name.to_owned(),
        arn,
        retention_days: group
            .retention_in_days()
            .and_then(|d| u32::try_from(d).ok()),
        tags,
    }))
}

pub async fn create_log_group(
    clients: &Clients,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    clients
        .logs
        .create_log_group()
        .log_group_name(name)
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .aws("logs:CreateLogGroup", clients)?;
    Ok(())
}

pub async fn put_retention(clients: &Clients, name: &str, days: u32) -> Result<(), AwsError> {
    clients
        .logs
        .put_retention_policy()
        .log_group_name(name)
        .retention_in_days(days as i32)
        .send()
        .await
        .aws("logs:PutRetentionPolicy", clients)?;
    Ok(())
}

/// Adds or overwrites `tags` on the log group (others stay).
pub async fn tag_log_group(
    clients: &Clients,
    arn: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    clients
        .logs
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .aws("logs:TagResource", clients)?;
    Ok(())
}

/// One record of the log group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEvent {
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub message: String,
}

/// Every record from `start_ms` on, oldest first (all pages); `None` if the group does not
/// exist.
pub async fn filter_events(
    clients: &Clients,
    group: &str,
    start_ms: i64,
) -> Result<Option<Vec<LogEvent>>, AwsError> {
    let mut events = Vec::new();
    let mut token = None;
    loop {
        let Some(out) = clients
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(start_ms)
            .set_next_token(token)
            .send()
            .await
            .found("logs:FilterLogEvents", clients)?
        else {
            return Ok(None);
        };
        events.extend(out.events().iter().map(|e| LogEvent {
            id: e.event_id().unwrap_or_default().to_owned(),
            timestamp: e.timestamp().unwrap_or_default(),
            message: e.message().unwrap_or_default().to_owned(),
        }));
        match out.next_token {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => break,
        }
    }
    // Pages come stream by stream; a reader wants time order.
    events.sort_by_key(|e| e.timestamp);
    Ok(Some(events))
}
