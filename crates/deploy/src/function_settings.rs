//! The function's settings beyond its configuration, converged like the rest: the manifest's
//! IAM statements (their own inline policy on the role, beside the managed-connections one),
//! its reserved concurrency, and the user's tags on every resource of the stage.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::aws::tagging::{self, Tagged};
use crate::aws::{iam, lambda, AwsError, Clients};
use crate::desired::Desired;
use crate::names::Account;
use crate::observe::Observed;
use crate::plan::{Action, Change, Plan, Resource};
use socket_manifest::Statement;

/// The role's inline policy holding the manifest's `iamRoleStatements`.
pub const STATEMENTS_POLICY: &str = "socket-statements";

/// A resource of the stage whose tags deploy keeps equal to the wanted ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagTarget {
    Role,
    Function,
    Api,
    RegistryTable,
    Domain(String),
}

/// The policy document of the manifest's statements; `None` when there are none.
pub fn statements_policy(statements: &[Statement]) -> Option<Value> {
    if statements.is_empty() {
        return None;
    }
    let statements: Vec<Value> = statements
        .iter()
        .map(|s| {
            json!({
                "Effect": s.effect.as_iam(),
                "Action": s.actions,
                "Resource": s.resources,
            })
        })
        .collect();
    Some(json!({ "Version": "2012-10-17", "Statement": statements }))
}

/// The statements policy and reserved concurrency, after the function's own changes.
pub fn plan(desired: &Desired, observed: &Observed, plan: &mut Plan) {
    match (
        statements_policy(&desired.statements),
        &observed.statements_policy,
    ) {
        (Some(wanted), Some(current)) if wanted == *current => {}
        (Some(_), Some(_)) => plan.push(Change::update(
            Resource::StatementsPolicy,
            vec!["statements"],
        )),
        (Some(_), None) => plan.push(Change::create(Resource::StatementsPolicy)),
        (None, Some(_)) => plan.push(Change::delete(Resource::StatementsPolicy)),
        (None, None) => {}
    }
    let current = observed.reserved_concurrency;
    match (desired.reserved_concurrency, current) {
        (Some(wanted), Some(now)) if wanted == now => {}
        (Some(_), Some(_)) => plan.push(Change::update(
            Resource::ReservedConcurrency,
            vec!["reserved_concurrency"],
        )),
        // A function about to be created has none yet.
        (Some(_), None) => plan.push(Change::create(Resource::ReservedConcurrency)),
        (None, Some(_)) => plan.push(Change::delete(Resource::ReservedConcurrency)),
        (None, None) => {}
    }
    let mut retag = |target: TagTarget, current: &BTreeMap<String, String>| {
        let (set, remove) = tagging::difference(&desired.tags, current);
        if !set.is_empty() || !remove.is_empty() {
            plan.push(Change::update(Resource::Tags { of: target }, vec!["tags"]));
        }
    };
    // Resources about to be created get the tags with their create call.
    if let Some(role) = &observed.role {
        retag(TagTarget::Role, &role.tags);
    }
    if let Some(function) = &observed.function {
        retag(TagTarget::Function, &function.tags);
    }
    if let Some(api) = &observed.api {
        retag(TagTarget::Api, &api.tags);
    }
    if let (Some(table), Some(_)) = (&observed.table, &desired.registry) {
        retag(TagTarget::RegistryTable, &table.tags);
    }
    if let Some(wanted) = &desired.domain {
        if let Some(domain) = observed
            .domains
            .owned
            .iter()
            .find(|d| d.name == wanted.name)
        {
            retag(TagTarget::Domain(domain.name.clone()), &domain.tags);
        }
    }
}

/// What exists of these settings, once the role and the function are known to be the stage's.
pub async fn observe(
    clients: &Clients,
    observed: &Observed,
) -> Result<(Option<Value>, Option<u32>), AwsError> {
    let policy = async {
        match &observed.role {
            Some(role) => iam::inline_policy(clients, &role.name, STATEMENTS_POLICY).await,
            None => Ok(None),
        }
    };
    let concurrency = async {
        match &observed.function {
            Some(function) => lambda::reserved_concurrency(clients, &function.name).await,
            None => Ok(None),
        }
    };
    tokio::try_join!(policy, concurrency)
}

/// Makes one of the changes [`plan`] asks for (the account and API exist by then).
pub async fn apply(
    clients: &Clients,
    desired: &Desired,
    account: &Account,
    api_id: Option<&str>,
    change: &Change,
) -> Result<String, AwsError> {
    let names = &desired.names;
    match (&change.resource, &change.action) {
        (Resource::StatementsPolicy, Action::Delete) => {
            iam::delete_inline_policy(clients, &names.role, STATEMENTS_POLICY).await?;
            Ok(STATEMENTS_POLICY.to_owned())
        }
        (Resource::StatementsPolicy, _) => {
            let doc = statements_policy(&desired.statements).unwrap_or_default();
            iam::put_inline_policy(clients, &names.role, STATEMENTS_POLICY, &doc).await?;
            Ok(format!(
                "{STATEMENTS_POLICY} ({} statements)",
                desired.statements.len()
            ))
        }
        (Resource::ReservedConcurrency, Action::Delete) => {
            lambda::delete_reserved_concurrency(clients, &names.function).await?;
            Ok("unreserved".to_owned())
        }
        (Resource::ReservedConcurrency, _) => {
            let executions = desired.reserved_concurrency.unwrap_or_default();
            lambda::put_reserved_concurrency(clients, &names.function, executions).await?;
            Ok(format!("{executions} executions"))
        }
        (Resource::Tags { of }, _) => {
            let partition = &account.partition;
            let region = &names.region;
            let (resource, current) = match of {
                TagTarget::Role => (
                    Tagged::Role(names.role.clone()),
                    role_tags(clients, names).await?,
                ),
                TagTarget::Function => {
                    let arn = account.function_arn(region, &names.function);
                    let tags = lambda::get_function(clients, &names.function)
                        .await?
                        .map(|f| f.tags)
                        .unwrap_or_default();
                    (Tagged::Function(arn), tags)
                }
                TagTarget::Api => {
                    let id = api_id.unwrap_or_default();
                    let arn = format!("arn:{partition}:apigateway:{region}::/apis/{id}");
                    let tags = crate::aws::apigateway::get_api(clients, id)
                        .await?
                        .map(|a| a.tags)
                        .unwrap_or_default();
                    (Tagged::ApiGateway(arn), tags)
                }
                TagTarget::RegistryTable => {
                    let arn = account.table_arn(region, &names.table);
                    let tags = crate::aws::dynamodb::get_table(clients, &names.table)
                        .await?
                        .map(|t| t.tags)
                        .unwrap_or_default();
                    (Tagged::Table(arn), tags)
                }
                TagTarget::Domain(name) => {
                    let arn = format!("arn:{partition}:apigateway:{region}::/domainnames/{name}");
                    let tags = crate::aws::domain::get_domain_name(clients, name)
                        .await?
                        .map(|d| d.tags)
                        .unwrap_or_default();
                    (Tagged::ApiGateway(arn), tags)
                }
            };
            let (set, remove) = tagging::difference(&desired.tags, &current);
            tagging::retag(clients, &resource, &set, &remove).await?;
            Ok(tag_summary(&set, &remove))
        }
        (resource, action) => unreachable!("{action} {resource} is not a function setting"),
    }
}

async fn role_tags(
    clients: &Clients,
    names: &crate::names::StageNames,
) -> Result<BTreeMap<String, String>, AwsError> {
    Ok(iam::get_role(clients, &names.role)
        .await?
        .map(|r| r.tags)
        .unwrap_or_default())
}

/// "set team, removed owner": keys only (values may be anything).
pub fn tag_summary(set: &BTreeMap<String, String>, remove: &[String]) -> String {
    let mut parts = Vec::new();
    if !set.is_empty() {
        parts.push(format!(
            "set {}",
            set.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if !remove.is_empty() {
        parts.push(format!("removed {}", remove.join(", ")));
    }
    parts.join("; ")
}

impl std::fmt::Display for TagTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TagTarget::Role => write!(f, "the IAM role"),
            TagTarget::Function => write!(f, "the function"),
            TagTarget::Api => write!(f, "the API"),
            TagTarget::RegistryTable => write!(f, "the registry table"),
            TagTarget::Domain(name) => write!(f, "domain name {name}"),
        }
    }
}
