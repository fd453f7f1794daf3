//! The difference between what exists and what is wanted, as a list of changes: each one a
//! resource of the stage to create, to update (naming the fields that differ) or to delete.
//!
//! A stage that already matches plans nothing, so applying it makes no write call. The order
//! is the order the changes must be made in (the role before the function, the API before the
//! policy that names it, the integration before the routes that target it, the registry's table
//! before the function that uses it and deleted only after the function stopped naming it).

use std::collections::BTreeSet;
use std::fmt;

use crate::aws::{dynamodb, iam};
use crate::desired::Desired;
use crate::observe::Observed;

/// A resource of the stage, as a change names it. Existing resources carry their id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resource {
    /// The function's IAM role.
    Role,
    /// `AWSLambdaBasicExecutionRole` attached to the role (logs).
    BasicExecution,
    /// The role's inline policy allowing `execute-api:ManageConnections` on the API.
    ManageConnectionsPolicy,
    /// The WebSocket API (`id` is `None` until it exists).
    Api {
        id: Option<String>,
    },
    /// The function's CloudWatch log group, its retention and tags.
    LogGroup,
    /// The function and its configuration.
    Function,
    /// The code the function runs.
    FunctionCode,
    /// The `AWS_PROXY` integration the routes target.
    Integration {
        id: Option<String>,
    },
    Route {
        key: String,
        id: Option<String>,
    },
    /// The API's stage.
    Stage,
    /// A deployment of the routes and integrations as they are, served by the stage.
    Deployment,
    /// The permission that lets API Gateway invoke the function.
    Permission,
    /// The connection registry's DynamoDB table (`connections:`).
    RegistryTable,
    /// TTL on the registry table's `ttl` attribute.
    RegistryTtl,
    /// The role's inline policy allowing the registry's DynamoDB actions on its table.
    RegistryPolicy,
    /// The `$connect` REQUEST authorizer.
    Authorizer {
        id: Option<String>,
    },
    /// `$connect`'s authorization: the authorizer (`CUSTOM`), or none.
    ConnectAuthorization,
    /// The permission that lets the authorizer invoke the function.
    AuthorizerPermission,
    /// A custom domain name.
    DomainName {
        name: String,
    },
    /// The mapping of a domain name onto the stage.
    ApiMapping {
        domain: String,
        id: Option<String>,
    },
    /// The role's inline policy of the manifest's `iamRoleStatements`.
    StatementsPolicy,
    /// The function's reserved concurrency.
    ReservedConcurrency,
    /// The tags of an existing resource (a created one gets them with its create call).
    Tags {
        of: crate::function_settings::TagTarget,
    },
}

/// What happens to a resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    /// The fields that differ from what is wanted.
    Update(Vec<&'static str>),
    Delete,
}

/// One call (or a few, for deletes) that closes part of the difference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub resource: Resource,
    pub action: Action,
}

impl Change {
    pub fn create(resource: Resource) -> Self {
        Change {
            resource,
            action: Action::Create,
        }
    }

    pub fn update(resource: Resource, fields: Vec<&'static str>) -> Self {
        Change {
            resource,
            action: Action::Update(fields),
        }
    }

    pub fn delete(resource: Resource) -> Self {
        Change {
            resource,
            action: Action::Delete,
        }
    }
}

/// The changes that turn what exists into what is wanted, in the order they must be made.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    changes: Vec<Change>,
}

impl Plan {
    /// A plan of these changes, in this order.
    pub fn from_changes(changes: Vec<Change>) -> Self {
        Plan { changes }
    }

    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Change> {
        self.changes.iter()
    }

    pub fn len(&self) -> usize {
        self.changes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn creates(&self, resource: &Resource) -> bool {
        self.has(resource, &Action::Create)
    }

    pub fn deletes(&self, resource: &Resource) -> bool {
        self.has(resource, &Action::Delete)
    }

    fn has(&self, resource: &Resource, action: &Action) -> bool {
        self.changes
            .iter()
            .any(|c| c.resource == *resource && c.action == *action)
    }

    pub(crate) fn push(&mut self, change: Change) {
        self.changes.push(change);
    }
}

impl<'a> IntoIterator for &'a Plan {
    type Item = &'a Change;
    type IntoIter = std::slice::Iter<'a, Change>;

    fn into_iter(self) -> Self::IntoIter {
        self.changes.iter()
    }
}

/// The changes that turn `observed` into `desired`, in the order they must be made.
pub fn plan(desired: &Desired, observed: &Observed) -> Plan {
    let names = &desired.names;
    let region = &names.region;
    let account = observed.account();
    let mut plan = Plan::default();

    // The role first: the function needs it, and IAM takes a moment to propagate it.
    if observed.role.is_none() {
        plan.push(Change::create(Resource::Role));
    }
    if !observed.basic_execution_attached {
        plan.push(Change::create(Resource::BasicExecution));
    }
    // The table before the function whose environment names it.
    if desired.registry.is_some() {
        match &observed.table {
            None => {
                plan.push(Change::create(Resource::RegistryTable));
                plan.push(Change::create(Resource::RegistryTtl));
            }
            Some(table) => {
                if !table.on_demand {
                    plan.push(Change::update(
                        Resource::RegistryTable,
                        vec!["billing_mode"],
                    ));
                }
                match table.ttl.as_deref() {
                    Some(dynamodb::TTL_ATTRIBUTE) => {}
                    None => plan.push(Change::create(Resource::RegistryTtl)),
                    Some(_) => plan.push(Change::update(Resource::RegistryTtl, vec!["attribute"])),
                }
            }
        }
    }

    match &observed.api {
        None => plan.push(Change::create(Resource::Api { id: None })),
        Some(api) => {
            let mut fields = Vec::new();
            if api.route_selection != desired.route_selection {
                fields.push("route_selection");
            }
            if api.description != desired.description {
                fields.push("description");
            }
            if !fields.is_empty() {
                let id = Some(api.id.clone());
                plan.push(Change::update(Resource::Api { id }, fields));
            }
        }
    }
    for dup in &observed.duplicate_apis {
        let id = Some(dup.id.clone());
        plan.push(Change::delete(Resource::Api { id }));
    }

    let api_arn = match (&account, &observed.api) {
        (Some(account), Some(api)) => Some(account.api_arn(region, &api.id)),
        _ => None,
    };
    match (&api_arn, &observed.inline_policy) {
        (Some(arn), Some(doc)) if iam::grants_manage_connections(doc, arn) => {}
        (_, None) => plan.push(Change::create(Resource::ManageConnectionsPolicy)),
        (_, Some(_)) => plan.push(Change::update(
            Resource::ManageConnectionsPolicy,
            vec!["resource"],
        )),
    }
    let table_arn = account.as_ref().map(|a| a.table_arn(region, &names.table));
    if desired.registry.is_some() {
        match (&table_arn, &observed.registry_policy) {
            (Some(arn), Some(doc)) if iam::grants_registry(doc, arn) => {}
            (_, None) => plan.push(Change::create(Resource::RegistryPolicy)),
            (_, Some(_)) => plan.push(Change::update(Resource::RegistryPolicy, vec!["resource"])),
        }
    }

    // Before the function, so Lambda never makes it untagged and never-expiring.
    match &observed.log_group {
        None => plan.push(Change::create(Resource::LogGroup)),
        Some(group) => {
            let mut fields = Vec::new();
            if group.retention_days != Some(desired.log_retention) {
                fields.push("retention");
            }
            let (set, remove) = crate::aws::tagging::difference(&desired.tags, &group.tags);
            if !set.is_empty() || !remove.is_empty() {
                fields.push("tags");
            }
            if !fields.is_empty() {
                plan.push(Change::update(Resource::LogGroup, fields));
            }
        }
    }

    match &observed.function {
        None => plan.push(Change::create(Resource::Function)),
        Some(function) => {
            let role_arn = account
                .as_ref()
                .map(|a| a.role_arn(&names.role))
                .unwrap_or_default();
            let api_id = observed.api.as_ref().map(|a| a.id.as_str());
            let api_endpoint = observed.api.as_ref().map_or("", |a| a.endpoint.as_str());
            let settings = desired.settings(&role_arn, api_id, api_endpoint);
            let fields = function.differences(&settings);
            if !fields.is_empty() {
                plan.push(Change::update(Resource::Function, fields));
            }
            let mut code = Vec::new();
            if function.code_sha256 != desired.code_sha256 {
                code.push("code");
            }
            if function.architecture != Some(desired.architecture) {
                code.push("architecture");
            }
            if !code.is_empty() {
                plan.push(Change::update(Resource::FunctionCode, code));
            }
        }
    }

    // One AWS_PROXY integration to the function; an existing one is reused (routes keep it).
    let want_uri = account
        .as_ref()
        .map(|a| a.integration_uri(region, &names.function));
    let matching = observed
        .integrations
        .iter()
        .find(|i| i.kind == "AWS_PROXY" && Some(&i.uri) == want_uri.as_ref());
    let kept = match (
        observed.api.is_some(),
        matching,
        observed.integrations.first(),
    ) {
        (false, _, _) => None,
        (true, Some(i), _) => Some(i.id.clone()),
        (true, None, Some(first)) => {
            let id = Some(first.id.clone());
            plan.push(Change::update(Resource::Integration { id }, vec!["uri"]));
            Some(first.id.clone())
        }
        (true, None, None) => None,
    };
    if kept.is_none() {
        plan.push(Change::create(Resource::Integration { id: None }));
    }

    let target = kept.as_ref().map(|id| format!("integrations/{id}"));
    let mut present = BTreeSet::new();
    for route in &observed.routes {
        let existing = Resource::Route {
            key: route.key.clone(),
            id: Some(route.id.clone()),
        };
        if !desired.routes.contains(&route.key) || !present.insert(route.key.clone()) {
            plan.push(Change::delete(existing));
        } else if Some(&route.target) != target.as_ref() {
            plan.push(Change::update(existing, vec!["target"]));
        }
    }
    for key in desired.routes.difference(&present) {
        let key = key.clone();
        plan.push(Change::create(Resource::Route { key, id: None }));
    }
    for extra in &observed.integrations {
        if Some(&extra.id) != kept.as_ref() {
            let id = Some(extra.id.clone());
            plan.push(Change::delete(Resource::Integration { id }));
        }
    }

    match &observed.stage {
        None => plan.push(Change::create(Resource::Stage)),
        Some(stage) if stage.auto_deploy => {
            plan.push(Change::update(Resource::Stage, vec!["auto_deploy"]))
        }
        Some(_) => {}
    }
    // The stage serves a deployment, a snapshot: anything it is made of that changed needs a
    // new one, and so does a stage whose deployment is missing or failed.
    let stage_deployment = observed
        .stage
        .as_ref()
        .and_then(|s| s.deployment_id.as_ref());
    let serving = observed
        .deployment
        .as_ref()
        .is_some_and(|d| d.is_deployed() && Some(&d.id) == stage_deployment);
    if !serving || plan.iter().any(Change::changes_what_is_served) {
        plan.push(Change::create(Resource::Deployment));
    }

    match (&observed.function, &observed.permission_source, &api_arn) {
        (Some(_), Some(source), Some(arn)) if *source == format!("{arn}/*") => {}
        (Some(_), Some(_), _) => {
            plan.push(Change::update(Resource::Permission, vec!["source_arn"]))
        }
        _ => plan.push(Change::create(Resource::Permission)),
    }

    // Registry off: the function no longer names the table (updated above), so it goes last.
    if desired.registry.is_none() {
        if observed.registry_policy.is_some() {
            plan.push(Change::delete(Resource::RegistryPolicy));
        }
        if observed.table.is_some() {
            plan.push(Change::delete(Resource::RegistryTable));
        }
    }
    crate::authorizer::plan(desired, observed, &mut plan);
    crate::domain::plan(desired, observed, &mut plan);
    crate::function_settings::plan(desired, observed, &mut plan);
    plan
}

impl Change {
    /// Whether the change alters what a deployment snapshots: the API's settings, its
    /// integrations and routes (an authorizer would too). Deleting a duplicate API does not.
    fn changes_what_is_served(&self) -> bool {
        match self.resource {
            Resource::Api { .. } => self.action != Action::Delete,
            Resource::Integration { .. } | Resource::Route { .. } => true,
            _ => false,
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Role => write!(f, "IAM role"),
            Resource::BasicExecution => write!(f, "basic execution policy"),
            Resource::ManageConnectionsPolicy => write!(f, "ManageConnections policy"),
            Resource::Api { id: Some(id) } => write!(f, "API {id}"),
            Resource::Api { id: None } => write!(f, "WebSocket API"),
            Resource::LogGroup => write!(f, "log group"),
            Resource::Function => write!(f, "function"),
            Resource::FunctionCode => write!(f, "function code"),
            Resource::Integration { id: Some(id) } => write!(f, "integration {id}"),
            Resource::Integration { id: None } => write!(f, "integration"),
            Resource::Route { key, .. } => write!(f, "route {key}"),
            Resource::Stage => write!(f, "stage"),
            Resource::Deployment => write!(f, "deployment"),
            Resource::Permission => write!(f, "invoke permission"),
            Resource::RegistryTable => write!(f, "connection registry table"),
            Resource::RegistryTtl => write!(f, "registry TTL"),
            Resource::RegistryPolicy => write!(f, "registry policy"),
            Resource::Authorizer { id: Some(id) } => write!(f, "authorizer {id}"),
            Resource::Authorizer { id: None } => write!(f, "$connect authorizer"),
            Resource::ConnectAuthorization => write!(f, "$connect authorization"),
            Resource::AuthorizerPermission => write!(f, "authorizer invoke permission"),
            Resource::DomainName { name } => write!(f, "domain name {name}"),
            Resource::ApiMapping { domain, .. } => write!(f, "API mapping on {domain}"),
            Resource::StatementsPolicy => write!(f, "IAM statements policy"),
            Resource::ReservedConcurrency => write!(f, "reserved concurrency"),
            Resource::Tags { of } => write!(f, "tags of {of}"),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Create => write!(f, "create"),
            Action::Update(fields) => write!(f, "update ({})", fields.join(", ")),
            Action::Delete => write!(f, "delete"),
        }
    }
}

/// What the progress lines and `changes` in the outputs say.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Action::{Create, Delete, Update};
        match (&self.resource, &self.action) {
            (Resource::Role, Create) => write!(f, "create IAM role"),
            (Resource::BasicExecution, Create) => write!(f, "attach basic execution policy"),
            (Resource::Api { .. }, Create) => write!(f, "create WebSocket API"),
            (Resource::Api { .. }, Update(_)) => write!(f, "update API route selection"),
            (Resource::Api { id: Some(id) }, Delete) => write!(f, "delete duplicate API {id}"),
            (Resource::ManageConnectionsPolicy, Create | Update(_)) => {
                write!(f, "scope role to the API")
            }
            (Resource::LogGroup, Create) => write!(f, "create log group"),
            (Resource::LogGroup, Update(fields)) => {
                write!(f, "update log group ({})", fields.join(", "))
            }
            (Resource::Function, Create) => write!(f, "create function"),
            (Resource::Function, Update(fields)) => {
                write!(f, "update function configuration ({})", fields.join(", "))
            }
            (Resource::FunctionCode, Update(_)) => write!(f, "update function code"),
            (Resource::Integration { .. }, Create) => write!(f, "create integration"),
            (Resource::Integration { .. }, Update(_)) => {
                write!(f, "point integration at the function")
            }
            (Resource::Integration { id: Some(id) }, Delete) => {
                write!(f, "delete extra integration {id}")
            }
            (Resource::Route { key, .. }, Create) => write!(f, "add route {key}"),
            (Resource::Route { key, .. }, Update(_)) => {
                write!(f, "point route {key} at the integration")
            }
            (Resource::Route { key, .. }, Delete) => write!(f, "delete route {key}"),
            (Resource::Stage, Create) => write!(f, "create stage"),
            (Resource::Stage, Update(_)) => write!(f, "switch the stage to explicit deployments"),
            (Resource::Deployment, Create) => write!(f, "deploy the stage"),
            (Resource::Permission, Create) => {
                write!(f, "allow API Gateway to invoke the function")
            }
            (Resource::Permission, Update(_)) => {
                write!(f, "re-scope the invoke permission to the API")
            }
            (Resource::RegistryTable, Create) => write!(f, "create connection registry table"),
            (Resource::RegistryTable, Update(_)) => {
                write!(f, "switch the registry table to on-demand billing")
            }
            (Resource::RegistryTable, Delete) => write!(f, "delete connection registry table"),
            (Resource::RegistryTtl, Create | Update(_)) => {
                write!(f, "enable TTL on the registry table")
            }
            (Resource::RegistryPolicy, Create | Update(_)) => {
                write!(f, "allow the function to use the registry table")
            }
            (Resource::RegistryPolicy, Delete) => {
                write!(f, "revoke the function's registry access")
            }
            (Resource::Authorizer { .. }, Create) => {
                write!(f, "create the $connect authorizer and attach it")
            }
            (Resource::Authorizer { .. }, Update(fields)) => {
                write!(f, "update the $connect authorizer ({})", fields.join(", "))
            }
            (Resource::Authorizer { .. }, Delete) => write!(f, "delete the $connect authorizer"),
            (Resource::ConnectAuthorization, _) => write!(f, "set $connect's authorizer"),
            (Resource::AuthorizerPermission, Create) => {
                write!(f, "allow the authorizer to invoke the function")
            }
            (Resource::AuthorizerPermission, Update(_)) => {
                write!(f, "re-scope the authorizer's invoke permission")
            }
            (Resource::AuthorizerPermission, Delete) => {
                write!(f, "remove the authorizer's invoke permission")
            }
            (Resource::DomainName { name }, Create) => write!(f, "create domain name {name}"),
            (Resource::DomainName { name }, Update(fields)) => {
                write!(f, "update domain name {name} ({})", fields.join(", "))
            }
            (Resource::DomainName { name }, Delete) => write!(f, "delete domain name {name}"),
            (Resource::ApiMapping { domain, .. }, Create) => write!(f, "map {domain} to the stage"),
            (Resource::ApiMapping { domain, .. }, Update(fields)) => {
                write!(f, "re-map {domain} ({})", fields.join(", "))
            }
            (Resource::ApiMapping { domain, .. }, Delete) => {
                write!(f, "delete an API mapping on {domain}")
            }
            (Resource::StatementsPolicy, Create | Update(_)) => {
                write!(f, "grant the function the manifest's IAM statements")
            }
            (Resource::StatementsPolicy, Delete) => {
                write!(f, "revoke the manifest's IAM statements")
            }
            (Resource::ReservedConcurrency, Create | Update(_)) => {
                write!(f, "reserve the function's concurrency")
            }
            (Resource::ReservedConcurrency, Delete) => {
                write!(f, "release the function's reserved concurrency")
            }
            (Resource::Tags { of }, _) => write!(f, "update the tags of {of}"),
            (resource, action) => write!(f, "{action} {resource}"),
        }
    }
}

#[cfg(test)]
mod tests;
