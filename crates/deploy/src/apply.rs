//! Making a [`Plan`] with the SDK clients, in its order, recording each created resource in the
//! state file as soon as it exists: a deploy killed at any point is finished by the next one.

use std::collections::BTreeMap;
use std::path::Path;

use crate::aws::domain::DomainName;
use crate::aws::tagging::{self, Tagged};
use crate::aws::{apigateway, authorizer as aws_authorizer, domain as aws_domain};
use crate::aws::{dynamodb, iam, lambda, logs, Clients};
use crate::deploy::DeployError;
use crate::desired::{user_env_names, CodeBundle, Desired};
use crate::names::Account;
use crate::observe::Observed;
use crate::plan::{Action, Change, Plan, Resource};
use crate::state::{ApiState, FunctionState, PermissionState, RoleState, State, StateError};
use socket_progress::Reporter;

/// Applies a plan, recording each created resource in the state file as soon as it exists.
pub(crate) struct Deployer<'a> {
    clients: &'a Clients,
    desired: &'a Desired,
    code: &'a CodeBundle,
    reporter: Reporter,
    project_dir: &'a Path,
    state: State,
    account: Option<Account>,
    role_arn: Option<String>,
    api_id: Option<String>,
    /// The API's endpoint as AWS reported it (empty when it did not).
    api_endpoint: String,
    function_arn: Option<String>,
    integration_id: Option<String>,
    routes: BTreeMap<String, String>,
    /// `CodeSha256` of the code the function runs.
    code_sha256: Option<String>,
    /// The `$connect` authorizer.
    authorizer_id: Option<String>,
    /// The manifest's domain name as it exists (for its DNS target).
    domain: Option<DomainName>,
    /// Whether this run has seen the function take updates (no earlier update in progress).
    function_settled: bool,
}

impl<'a> Deployer<'a> {
    pub(crate) fn new(
        clients: &'a Clients,
        desired: &'a Desired,
        code: &'a CodeBundle,
        reporter: Reporter,
        project_dir: &'a Path,
        recorded: Option<State>,
    ) -> Self {
        let names = &desired.names;
        Deployer {
            clients,
            desired,
            code,
            reporter,
            project_dir,
            state: recorded
                .unwrap_or_else(|| State::new(&names.service, &names.stage, &names.region)),
            account: None,
            role_arn: None,
            api_id: None,
            api_endpoint: String::new(),
            function_arn: None,
            integration_id: None,
            routes: BTreeMap::new(),
            code_sha256: None,
            authorizer_id: None,
            domain: None,
            function_settled: false,
        }
    }

    /// Starts from what exists and stays, so the state file is complete even with no changes.
    pub(crate) fn carry_over(&mut self, observed: &Observed, plan: &Plan) {
        self.account = observed.account();
        self.role_arn = observed.role.as_ref().map(|r| r.arn.clone());
        self.api_id = observed.api.as_ref().map(|a| a.id.clone());
        self.api_endpoint = observed
            .api
            .as_ref()
            .map(|a| a.endpoint.clone())
            .unwrap_or_default();
        self.function_arn = observed.function.as_ref().map(|f| f.arn.clone());
        self.code_sha256 = observed.function.as_ref().map(|f| f.code_sha256.clone());
        self.authorizer_id = observed
            .authorizer
            .authorizer
            .as_ref()
            .map(|a| a.id.clone());
        self.domain = self
            .desired
            .domain
            .as_ref()
            .and_then(|wanted| observed.domains.named(&wanted.name))
            .cloned();
        if observed.api.is_some() {
            self.integration_id = observed
                .integrations
                .iter()
                .find(|i| {
                    let id = Some(i.id.clone());
                    !plan.deletes(&Resource::Integration { id })
                })
                .map(|i| i.id.clone());
            for route in &observed.routes {
                let deleted = plan.deletes(&Resource::Route {
                    key: route.key.clone(),
                    id: Some(route.id.clone()),
                });
                if !deleted {
                    self.routes.insert(route.key.clone(), route.id.clone());
                }
            }
            if observed.stage.is_some() {
                let stage = self.desired.names.stage.clone();
                self.state.api.get_or_insert_with(ApiState::default).stage = Some(stage);
            }
        }
        if let (Some(source), Some(_)) = (&observed.permission_source, &observed.function) {
            self.state.permission = Some(PermissionState {
                statement_id: lambda::PERMISSION_ID.into(),
                source_arn: source.clone(),
            });
        }
    }

    /// Whether the account is known, or the plan makes the role that tells it.
    pub(crate) fn knows_account(&self, plan: &Plan) -> bool {
        self.account.is_some() || plan.creates(&Resource::Role)
    }

    fn account(&self) -> &Account {
        self.account
            .as_ref()
            .expect("the role exists before anything needs the account")
    }

    pub(crate) fn api_id(&self) -> &str {
        self.api_id
            .as_deref()
            .expect("the API exists before its parts are made")
    }

    /// The manifest's domain name as it exists after the plan.
    pub(crate) fn domain(&self) -> Option<&DomainName> {
        self.domain.as_ref()
    }

    pub(crate) fn api_endpoint(&self) -> &str {
        &self.api_endpoint
    }

    fn save(&mut self) -> Result<(), StateError> {
        let names = &self.desired.names;
        self.state.account = self.account.as_ref().map(|a| a.id.clone());
        self.state.role = self.role_arn.clone().map(|arn| RoleState {
            name: names.role.clone(),
            arn,
        });
        self.state.api = self.api_id.clone().map(|id| ApiState {
            id,
            integration_id: self.integration_id.clone(),
            routes: self.routes.clone(),
            stage: self.state.api.as_ref().and_then(|a| a.stage.clone()),
        });
        self.state.function = self.function_arn.clone().map(|arn| FunctionState {
            name: names.function.clone(),
            arn,
            code_sha256: self.code_sha256.clone().unwrap_or_default(),
            env: user_env_names(self.desired.env.keys()),
        });
        self.state.save(self.project_dir)
    }

    pub(crate) async fn apply(&mut self, plan: &Plan) -> Result<(), DeployError> {
        for change in plan {
            let step = self.reporter.step(capitalized(&change.to_string()));
            match self.apply_one(change, &step).await {
                Ok(detail) => step.done(detail),
                Err(err) => {
                    step.failed();
                    // What was made so far is recorded, so the next run picks up from here.
                    let _ = self.save();
                    return Err(err);
                }
            }
        }
        self.save()?;
        Ok(())
    }

    async fn apply_one(
        &mut self,
        change: &Change,
        step: &socket_progress::Step,
    ) -> Result<String, DeployError> {
        let c = self.clients;
        let d = self.desired;
        let names = &d.names;
        let tags = &d.tags;
        let detail = match (&change.resource, &change.action) {
            (Resource::Role, Action::Create) => {
                let role = iam::create_role(
                    c,
                    &names.role,
                    &format!("Lambda role of {} ({})", names.service, names.stage),
                    tags,
                )
                .await?;
                self.account = Account::from_arn(&role.arn);
                self.role_arn = Some(role.arn);
                self.save()?;
                names.role.clone()
            }
            (Resource::BasicExecution, Action::Create) => {
                let arn = iam::basic_execution_policy_arn(&self.account().partition);
                iam::attach_policy(c, &names.role, &arn).await?;
                "AWSLambdaBasicExecutionRole".into()
            }
            (Resource::Api { .. }, Action::Create) => {
                let api =
                    apigateway::create_api(c, &names.api, &d.route_selection, &d.description, tags)
                        .await?;
                let id = api.id;
                self.api_id = Some(id.clone());
                self.api_endpoint = api.endpoint;
                self.routes.clear();
                self.integration_id = None;
                self.save()?;
                id
            }
            (Resource::Api { .. }, Action::Update(_)) => {
                apigateway::update_api(c, self.api_id(), &d.route_selection, &d.description)
                    .await?;
                d.route_selection.clone()
            }
            (Resource::Api { id: Some(id) }, Action::Delete) => {
                apigateway::delete_api(c, id).await?;
                id.clone()
            }
            (Resource::ManageConnectionsPolicy, Action::Create | Action::Update(_)) => {
                let api_arn = self.account().api_arn(&names.region, self.api_id());
                let doc = iam::manage_connections_policy(&api_arn);
                iam::put_inline_policy(c, &names.role, iam::MANAGE_CONNECTIONS_POLICY, &doc)
                    .await?;
                format!("{api_arn}/*")
            }
            (Resource::LogGroup, Action::Create) => {
                logs::create_log_group(c, &names.log_group, tags).await?;
                logs::put_retention(c, &names.log_group, d.log_retention).await?;
                format!("{} ({} days)", names.log_group, d.log_retention)
            }
            (Resource::LogGroup, Action::Update(fields)) => {
                if fields.contains(&"retention") {
                    logs::put_retention(c, &names.log_group, d.log_retention).await?;
                }
                if fields.contains(&"tags") {
                    let arn = self
                        .account()
                        .log_group_arn(&names.region, &names.log_group);
                    let current = logs::get_log_group(c, &names.log_group)
                        .await?
                        .map(|g| g.tags)
                        .unwrap_or_default();
                    let (set, remove) = tagging::difference(tags, &current);
                    tagging::retag(c, &Tagged::LogGroup(arn), &set, &remove).await?;
                }
                fields.join(", ")
            }
            (Resource::Function, Action::Create) => {
                let role_arn = self.role_arn.clone().unwrap_or_default();
                let arn = lambda::create_function(
                    c,
                    &names.function,
                    &d.settings(&role_arn, self.api_id.as_deref(), &self.api_endpoint),
                    d.architecture,
                    &self.code.zip,
                    tags,
                    |attempt| {
                        step.update(format!(
                            "Create function (waiting for the IAM role, attempt {attempt})"
                        ))
                    },
                )
                .await?;
                self.function_arn = Some(arn);
                self.code_sha256 = Some(self.code.code_sha256.clone());
                self.save()?;
                self.settle_function(step, "Create function", lambda::Moment::AfterChange)
                    .await?;
                format!("{} ({} KiB)", names.function, self.code.zip.len() / 1024)
            }
            (Resource::Function, Action::Update(fields)) => {
                let label = "Update function configuration";
                self.settle_function(step, label, lambda::Moment::BeforeUpdate)
                    .await?;
                let role_arn = self.role_arn.clone().unwrap_or_default();
                let settings = d.settings(&role_arn, self.api_id.as_deref(), &self.api_endpoint);
                lambda::update_configuration(c, &names.function, &settings).await?;
                self.settle_function(step, label, lambda::Moment::AfterChange)
                    .await?;
                fields.join(", ")
            }
            (Resource::FunctionCode, Action::Update(_)) => {
                let label = "Update function code";
                self.settle_function(step, label, lambda::Moment::BeforeUpdate)
                    .await?;
                lambda::update_code(c, &names.function, d.architecture, &self.code.zip).await?;
                self.code_sha256 = Some(self.code.code_sha256.clone());
                self.save()?;
                self.settle_function(step, label, lambda::Moment::AfterChange)
                    .await?;
                format!("{} KiB uploaded", self.code.zip.len() / 1024)
            }
            (Resource::Integration { .. }, Action::Create) => {
                let uri = self
                    .account()
                    .integration_uri(&names.region, &names.function);
                let id = apigateway::create_integration(c, self.api_id(), &uri).await?;
                self.integration_id = Some(id.clone());
                self.save()?;
                id
            }
            (Resource::Integration { id: Some(id) }, Action::Update(_)) => {
                let uri = self
                    .account()
                    .integration_uri(&names.region, &names.function);
                apigateway::update_integration(c, self.api_id(), id, &uri).await?;
                self.integration_id = Some(id.clone());
                id.clone()
            }
            (Resource::Route { key, .. }, Action::Create) => {
                let target = self.target();
                let id = apigateway::create_route(c, self.api_id(), key, &target).await?;
                self.routes.insert(key.clone(), id.clone());
                self.save()?;
                id
            }
            (Resource::Route { key, id: Some(id) }, Action::Update(_)) => {
                let target = self.target();
                apigateway::retarget_route(c, self.api_id(), id, &target).await?;
                self.routes.insert(key.clone(), id.clone());
                target
            }
            (Resource::Route { key, id: Some(id) }, Action::Delete) => {
                apigateway::delete_route(c, self.api_id(), id).await?;
                if self.routes.get(key) == Some(id) {
                    self.routes.remove(key);
                }
                id.clone()
            }
            (Resource::Integration { id: Some(id) }, Action::Delete) => {
                apigateway::delete_integration(c, self.api_id(), id).await?;
                id.clone()
            }
            (Resource::Stage, Action::Create) => {
                apigateway::create_stage(c, self.api_id(), &names.stage, tags).await?;
                self.state.api.get_or_insert_with(ApiState::default).stage =
                    Some(names.stage.clone());
                self.save()?;
                names.stage.clone()
            }
            (Resource::Stage, Action::Update(_)) => {
                apigateway::disable_auto_deploy(c, self.api_id(), &names.stage).await?;
                names.stage.clone()
            }
            (Resource::Deployment, Action::Create) => {
                let api = self.api_id();
                let description = format!("socket deploy of {} ({})", names.service, names.stage);
                let created = apigateway::create_deployment(c, api, &description).await?;
                let deployment = apigateway::wait_deployed(c, api, &names.stage, created).await?;
                // Only a built deployment is served: a failed one leaves the stage as it was.
                apigateway::point_stage(c, api, &names.stage, &deployment.id).await?;
                deployment.id
            }
            (Resource::Permission, Action::Create | Action::Update(_)) => {
                let source = format!("{}/*", self.account().api_arn(&names.region, self.api_id()));
                if change.action != Action::Create {
                    lambda::remove_permission(c, &names.function).await?;
                }
                lambda::add_permission(c, &names.function, &source).await?;
                self.state.permission = Some(PermissionState {
                    statement_id: lambda::PERMISSION_ID.into(),
                    source_arn: source.clone(),
                });
                self.save()?;
                source
            }
            (Resource::RegistryTable, Action::Create) => {
                dynamodb::create_table(c, &names.table, tags).await?;
                format!("{} (on-demand)", names.table)
            }
            (Resource::RegistryTable, Action::Update(_)) => {
                dynamodb::set_on_demand(c, &names.table).await?;
                names.table.clone()
            }
            (Resource::RegistryTable, Action::Delete) => {
                dynamodb::delete_table(c, &names.table).await?;
                names.table.clone()
            }
            (Resource::RegistryTtl, Action::Create | Action::Update(_)) => {
                // DynamoDB refuses TTL changes while the table is still being created.
                let waiting = |waited: std::time::Duration| {
                    step.update(format!(
                        "{} (waiting for the table to become active, {} s)",
                        capitalized(&change.to_string()),
                        waited.as_secs()
                    ))
                };
                dynamodb::wait_active(c, &names.table, waiting).await?;
                dynamodb::enable_ttl(c, &names.table, dynamodb::TTL_ATTRIBUTE).await?;
                format!("attribute `{}`", dynamodb::TTL_ATTRIBUTE)
            }
            (Resource::RegistryPolicy, Action::Create | Action::Update(_)) => {
                let table_arn = self.account().table_arn(&names.region, &names.table);
                let doc = iam::registry_policy(&table_arn);
                iam::put_inline_policy(c, &names.role, iam::REGISTRY_POLICY, &doc).await?;
                table_arn
            }
            (Resource::RegistryPolicy, Action::Delete) => {
                iam::delete_inline_policy(c, &names.role, iam::REGISTRY_POLICY).await?;
                iam::REGISTRY_POLICY.to_owned()
            }
            (Resource::Authorizer { .. }, Action::Create) => {
                let id = self.create_authorizer().await?;
                // Attached at once: the `$connect` route is how the next deploy finds it.
                let route = self.connect_route();
                aws_authorizer::set_route_authorizer(c, self.api_id(), &route, Some(&id)).await?;
                self.authorizer_id = Some(id.clone());
                id
            }
            (Resource::Authorizer { id: Some(id) }, Action::Update(fields)) => {
                let (name, uri) = self.authorizer_name_and_uri();
                let spec = crate::authorizer::spec(d, &name, &uri)
                    .expect("an update is planned only when an authorizer is wanted");
                aws_authorizer::update_authorizer(c, self.api_id(), id, &spec).await?;
                format!("{id} ({})", fields.join(", "))
            }
            (Resource::Authorizer { id: Some(id) }, Action::Delete) => {
                aws_authorizer::delete_authorizer(c, self.api_id(), id).await?;
                self.authorizer_id = None;
                id.clone()
            }
            (Resource::ConnectAuthorization, Action::Update(_)) => {
                let route = self.connect_route();
                let authorizer = d.authorizer.as_ref().and(self.authorizer_id.as_deref());
                aws_authorizer::set_route_authorizer(c, self.api_id(), &route, authorizer).await?;
                authorizer.unwrap_or("none").to_owned()
            }
            (Resource::AuthorizerPermission, Action::Create | Action::Update(_)) => {
                let authorizer = self
                    .authorizer_id
                    .clone()
                    .expect("the authorizer exists before its permission");
                let source = crate::authorizer::source_arn(
                    self.account(),
                    &names.region,
                    self.api_id(),
                    &authorizer,
                );
                if change.action != Action::Create {
                    lambda::remove_statement(c, &names.function, aws_authorizer::PERMISSION_ID)
                        .await?;
                }
                lambda::add_statement(c, &names.function, aws_authorizer::PERMISSION_ID, &source)
                    .await?;
                source
            }
            (Resource::AuthorizerPermission, Action::Delete) => {
                lambda::remove_statement(c, &names.function, aws_authorizer::PERMISSION_ID).await?;
                aws_authorizer::PERMISSION_ID.to_owned()
            }
            (Resource::DomainName { name }, Action::Create) => {
                let certificate = self.wanted_certificate();
                let made = aws_domain::create_domain_name(c, name, &certificate, tags).await?;
                self.domain = Some(made);
                name.clone()
            }
            (Resource::DomainName { name }, Action::Update(fields)) => {
                let certificate = self.wanted_certificate();
                let made = aws_domain::update_domain_name(c, name, &certificate).await?;
                self.domain = Some(made);
                format!("{name} ({})", fields.join(", "))
            }
            (Resource::DomainName { name }, Action::Delete) => {
                aws_domain::delete_domain_name(c, name).await?;
                name.clone()
            }
            (Resource::ApiMapping { domain, id }, Action::Create | Action::Update(_)) => {
                // A changed base path is a new mapping (delete, then create).
                if let Some(id) = id {
                    aws_domain::delete_api_mapping(c, domain, id).await?;
                }
                let key = d
                    .domain
                    .as_ref()
                    .map(|w| w.base_path.clone())
                    .unwrap_or_default();
                aws_domain::create_api_mapping(c, domain, self.api_id(), &names.stage, &key)
                    .await?;
                format!("{domain}/{key} → {}", names.stage)
            }
            (
                Resource::ApiMapping {
                    domain,
                    id: Some(id),
                },
                Action::Delete,
            ) => {
                aws_domain::delete_api_mapping(c, domain, id).await?;
                id.clone()
            }
            (
                Resource::StatementsPolicy | Resource::ReservedConcurrency | Resource::Tags { .. },
                _,
            ) => {
                crate::function_settings::apply(
                    c,
                    d,
                    self.account(),
                    self.api_id.as_deref(),
                    change,
                )
                .await?
            }
            (resource, action) => {
                unreachable!("the plan never asks to {action} {resource}")
            }
        };
        Ok(detail)
    }

    async fn create_authorizer(&self) -> Result<String, DeployError> {
        let (name, uri) = self.authorizer_name_and_uri();
        let spec = crate::authorizer::spec(self.desired, &name, &uri)
            .expect("a create is planned only when an authorizer is wanted");
        Ok(aws_authorizer::create_authorizer(self.clients, self.api_id(), &spec).await?)
    }

    fn authorizer_name_and_uri(&self) -> (String, String) {
        let names = &self.desired.names;
        (
            crate::authorizer::name(self.desired),
            self.account()
                .integration_uri(&names.region, &names.function),
        )
    }

    fn connect_route(&self) -> String {
        self.routes
            .get("$connect")
            .cloned()
            .expect("the $connect route exists before its authorizer")
    }

    fn wanted_certificate(&self) -> String {
        self.desired
            .domain
            .as_ref()
            .map(|w| w.certificate.clone())
            .expect("a domain name is made only when the manifest has one")
    }

    /// Waits until the function takes an update: before this run's first update (an
    /// interrupted deploy or a console edit may have left one in progress, and Lambda answers
    /// ResourceConflictException meanwhile), and after each create or update.
    async fn settle_function(
        &mut self,
        step: &socket_progress::Step,
        label: &str,
        moment: lambda::Moment,
    ) -> Result<(), DeployError> {
        if moment == lambda::Moment::BeforeUpdate && self.function_settled {
            return Ok(());
        }
        let interval = lambda::READY_WAIT.interval;
        lambda::wait_ready(
            self.clients,
            &self.desired.names.function,
            moment,
            |why, polls| {
                let waited = interval * polls;
                step.update(format!("{label} (waiting: {why}, {}s)", waited.as_secs()));
            },
        )
        .await?;
        self.function_settled = true;
        Ok(())
    }

    fn target(&self) -> String {
        format!(
            "integrations/{}",
            self.integration_id
                .as_deref()
                .expect("the integration exists before routes")
        )
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
