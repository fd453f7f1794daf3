//! What exists of a stage, read from AWS: the recorded [`State`] gives the API id, and every
//! recorded resource is checked; names (role, function) and tags (APIs) find whatever the state
//! does not know, so a lost state file never leads to duplicates.

use serde_json::Value;

use crate::aws::apigateway::{self, Api, Deployment, Integration, Route, Stage};
use crate::aws::dynamodb::{self, Table};
use crate::aws::iam::{self, Role};
use crate::aws::lambda::{self, Function};
use crate::aws::logs::{self, LogGroup};
use crate::aws::{partition_of, AwsError, Clients};
use crate::names::{Account, StageNames};
use crate::state::State;

/// What exists of a stage, read from AWS (never from the state file alone).
#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub role: Option<Role>,
    pub basic_execution_attached: bool,
    pub inline_policy: Option<Value>,
    /// The inline policy granting the connection registry's table.
    pub registry_policy: Option<Value>,
    pub api: Option<Api>,
    /// More APIs tagged with this stage (left by an interrupted run or a tool that allowed it).
    pub duplicate_apis: Vec<Api>,
    pub integrations: Vec<Integration>,
    pub routes: Vec<Route>,
    pub stage: Option<Stage>,
    /// The deployment the stage serves, if it still exists.
    pub deployment: Option<Deployment>,
    pub function: Option<Function>,
    pub permission_source: Option<String>,
    /// The function's log group (ours when the function's name is: Lambda may have made it).
    pub log_group: Option<LogGroup>,
    /// The connection registry's table, when it exists and belongs to the stage.
    pub table: Option<Table>,
    /// Resources with this stage's names that belong to something else: never touched.
    pub foreign: Vec<(&'static str, String)>,
    /// The `$connect` authorizer (read by [`crate::authorizer::observe`]).
    pub authorizer: crate::authorizer::ObservedAuthorizer,
    /// The custom domains (read by [`crate::domain::observe`]).
    pub domains: crate::domain::ObservedDomains,
    /// The role's policy of the manifest's statements (read by [`crate::function_settings::observe`]).
    pub statements_policy: Option<Value>,
    /// The function's reserved concurrency (read by [`crate::function_settings::observe`]).
    pub reserved_concurrency: Option<u32>,
}

impl Observed {
    pub fn account(&self) -> Option<Account> {
        let role = self.role.as_ref().and_then(|r| Account::from_arn(&r.arn));
        role.or_else(|| {
            self.function
                .as_ref()
                .and_then(|f| Account::from_arn(&f.arn))
        })
    }

    pub fn is_empty(&self) -> bool {
        self.role.is_none()
            && self.api.is_none()
            && self.function.is_none()
            && self.duplicate_apis.is_empty()
            && self.table.is_none()
    }
}

/// Reads what exists of the stage. `state` only saves a lookup: each recorded id is checked.
pub async fn observe(
    clients: &Clients,
    names: &StageNames,
    state: Option<&State>,
) -> Result<Observed, AwsError> {
    let role = async {
        let Some(role) = iam::get_role(clients, &names.role).await? else {
            return Ok::<_, AwsError>((None, false, None, None));
        };
        if !names.owns(&role.tags) {
            return Ok((Some(role), false, None, None));
        }
        let partition = partition_of(&role.arn).unwrap_or("aws").to_owned();
        let basic = iam::basic_execution_policy_arn(&partition);
        let (attached, inline, registry) = tokio::try_join!(
            iam::attached_policies(clients, &role.name),
            iam::inline_policy(clients, &role.name, iam::MANAGE_CONNECTIONS_POLICY),
            iam::inline_policy(clients, &role.name, iam::REGISTRY_POLICY),
        )?;
        Ok((Some(role), attached.contains(&basic), inline, registry))
    };
    let function = async {
        let Some(function) = lambda::get_function(clients, &names.function).await? else {
            return Ok::<_, AwsError>((None, None));
        };
        if !names.owns(&function.tags) {
            return Ok((Some(function), None));
        }
        let permission = lambda::permission_source(clients, &function.name).await?;
        Ok((Some(function), permission))
    };
    let api = async {
        let mut apis = find_apis(clients, names, state).await?.into_iter();
        let Some(api) = apis.next() else {
            return Ok::<_, AwsError>((None, Vec::new(), Vec::new(), Vec::new(), None, None));
        };
        let stage = async {
            let stage = apigateway::get_stage(clients, &api.id, &names.stage).await?;
            let deployment = match stage.as_ref().and_then(|s| s.deployment_id.as_deref()) {
                Some(id) => apigateway::get_deployment(clients, &api.id, id).await?,
                None => None,
            };
            Ok((stage, deployment))
        };
        let (integrations, routes, (stage, deployment)) = tokio::try_join!(
            apigateway::integrations(clients, &api.id),
            apigateway::routes(clients, &api.id),
            stage,
        )?;
        Ok((
            Some(api),
            apis.collect(),
            integrations,
            routes,
            stage,
            deployment,
        ))
    };
    let log_group = logs::get_log_group(clients, &names.log_group);
    let (
        (role, basic, inline, registry_policy),
        (function, permission),
        (api, duplicates, integrations, routes, stage, deployment),
        log_group,
        table,
    ) = tokio::try_join!(
        role,
        function,
        api,
        log_group,
        dynamodb::get_table(clients, &names.table)
    )?;

    let mut observed = Observed {
        basic_execution_attached: basic,
        inline_policy: inline,
        registry_policy,
        duplicate_apis: duplicates,
        integrations,
        routes,
        stage,
        deployment,
        permission_source: permission,
        log_group,
        api,
        ..Observed::default()
    };
    match role {
        Some(role) if !names.owns(&role.tags) => observed.foreign.push(("IAM role", role.name)),
        role => observed.role = role,
    }
    match function {
        Some(f) if !names.owns(&f.tags) => observed.foreign.push(("Lambda function", f.name)),
        function => observed.function = function,
    }
    match table {
        Some(t) if !names.owns(&t.tags) => observed.foreign.push((dynamodb::TABLE_KIND, t.name)),
        table => observed.table = table,
    }
    Ok(observed)
}

/// The stage's APIs, oldest first: the recorded one if it still exists and is the stage's,
/// else every API tagged with the stage.
pub async fn find_apis(
    clients: &Clients,
    names: &StageNames,
    state: Option<&State>,
) -> Result<Vec<Api>, AwsError> {
    let recorded = state.and_then(|s| s.api.as_ref()).map(|a| a.id.clone());
    if let Some(id) = recorded {
        if let Some(api) = apigateway::get_api(clients, &id).await? {
            if names.owns(&api.tags) {
                return Ok(vec![api]);
            }
        }
    }
    apigateway::find_apis(clients, &names.tags()).await
}
