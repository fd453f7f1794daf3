//! `socket deploy`: converge one stage's AWS resources on what the manifest and the package want.
//!
//! Three phases. [`observe`] reads what exists: the recorded [`State`] gives the API id, and
//! every recorded resource is checked; names (role, function) and tags (APIs) find whatever the
//! state does not know, so a lost state file never leads to duplicates. [`plan`] compares that
//! with [`Desired`] and lists the [`Change`]s that close the difference, nothing more: an
//! unchanged stage plans nothing and makes no write call. [`apply`](Deployer::apply) makes them in
//! dependency order and records each created resource in the state file at once, so a deploy
//! killed at any point is finished by the next one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::aws::apigateway::{self, Api, Integration, Route, Stage};
use crate::aws::iam::{self, Role};
use crate::aws::lambda::{self, Function, FunctionSettings};
use crate::aws::{account_of, partition_of, AwsError, Clients, TAG_SERVICE, TAG_STAGE};
use crate::outputs::{CodeOutputs, Outputs};
use crate::state::{
    ApiState, FunctionState, PermissionState, RoleState, StageLock, State, StateError,
};
use socket_manifest::{Architecture, Manifest, Overrides};
use socket_progress::Reporter;

/// The environment variable that tells the runtime the route selection expression.
pub use socket_protocol::env::ROUTE_SELECTION as ROUTE_SELECTION_ENV;
/// The routes every WebSocket API has.
pub const BUILTIN_ROUTES: [&str; 3] = ["$connect", "$disconnect", "$default"];
/// Lambda's limit for a zip uploaded in the request itself.
const MAX_DIRECT_UPLOAD: usize = 50 * 1024 * 1024;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum DeployError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Aws(#[from] AwsError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] StateError),

    #[error("cannot read the package {}: {source}", path.display())]
    #[diagnostic(
        code(socket::deploy::package),
        help("pass the zip that holds `bootstrap` (e.g. `.socket/<stage>/bootstrap.zip`), or leave out --package to build it")
    )]
    Package {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("the package is {size} bytes; Lambda accepts at most 50 MB uploaded directly")]
    #[diagnostic(
        code(socket::deploy::too_large),
        help("build in release mode (socket does by default) and drop unused dependencies")
    )]
    PackageTooLarge { size: usize },

    #[error("{kind} `{name}` exists but does not belong to service `{service}`, stage `{stage}`")]
    #[diagnostic(
        code(socket::deploy::name_taken),
        help(
            "socket only manages resources tagged socket:service={service} and socket:stage={stage}; \
             rename the service (`name` in serverless.yml), choose another stage, or delete that {kind}"
        )
    )]
    NameTaken {
        kind: &'static str,
        name: String,
        service: String,
        stage: String,
    },
}

/// The names of one stage's resources, all derived from the service, the stage and the region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageNames {
    pub service: String,
    pub stage: String,
    pub region: String,
    pub function: String,
    pub api: String,
    /// IAM is global: the region is part of the role's name so two regions never share it.
    pub role: String,
    pub log_group: String,
}

impl StageNames {
    pub fn new(service: &str, stage: &str, region: &str) -> Self {
        let prefix = format!("{service}-{stage}");
        let role = if prefix.len() + 1 + region.len() <= 64 {
            format!("{prefix}-{region}")
        } else {
            let hash = hex::encode(Sha256::digest(region.as_bytes()));
            format!("{prefix}-{}", &hash[..8])
        };
        StageNames {
            service: service.to_owned(),
            stage: stage.to_owned(),
            region: region.to_owned(),
            function: prefix.clone(),
            api: prefix.clone(),
            role,
            log_group: crate::aws::logs::log_group_of(&prefix),
        }
    }

    pub fn of(manifest: &Manifest) -> Self {
        Self::new(&manifest.service, &manifest.stage, &manifest.region)
    }

    /// The tags every resource of the stage carries.
    pub fn tags(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (TAG_SERVICE.to_owned(), self.service.clone()),
            (TAG_STAGE.to_owned(), self.stage.clone()),
        ])
    }

    /// Whether a resource's tags say it belongs to this stage.
    pub fn owns(&self, tags: &BTreeMap<String, String>) -> bool {
        tags.get(TAG_SERVICE) == Some(&self.service) && tags.get(TAG_STAGE) == Some(&self.stage)
    }
}

/// The zip Lambda runs: `bootstrap` only.
#[derive(Clone, Debug)]
pub struct CodeBundle {
    pub zip: Vec<u8>,
    /// Base64 SHA-256 of `zip`, as Lambda reports `CodeSha256`.
    pub code_sha256: String,
    pub architecture: Architecture,
}

impl CodeBundle {
    pub fn new(zip: Vec<u8>, architecture: Architecture) -> Self {
        let code_sha256 = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zip));
        CodeBundle {
            zip,
            code_sha256,
            architecture,
        }
    }

    /// A zip built earlier (`--package PATH`).
    pub fn read(path: &Path, architecture: Architecture) -> Result<Self, DeployError> {
        let zip = std::fs::read(path).map_err(|source| DeployError::Package {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self::new(zip, architecture))
    }
}

/// What the stage should look like.
#[derive(Clone, Debug)]
pub struct Desired {
    pub names: StageNames,
    pub route_selection: String,
    pub description: String,
    /// `$connect`, `$disconnect`, `$default` and the manifest's routes.
    pub routes: BTreeSet<String>,
    pub memory: u32,
    pub timeout: u32,
    /// The manifest's env plus what the runtime needs.
    pub env: BTreeMap<String, String>,
    pub architecture: Architecture,
    pub code_sha256: String,
}

impl Desired {
    pub fn new(manifest: &Manifest, code: &CodeBundle) -> Self {
        let mut env = manifest.env.clone();
        env.insert(
            ROUTE_SELECTION_ENV.to_owned(),
            manifest.route_selection.clone(),
        );
        let mut routes: BTreeSet<String> = BUILTIN_ROUTES.iter().map(|r| r.to_string()).collect();
        routes.extend(manifest.routes.iter().cloned());
        Desired {
            names: StageNames::of(manifest),
            route_selection: manifest.route_selection.clone(),
            description: manifest.description.clone().unwrap_or_default(),
            routes,
            memory: manifest.memory,
            timeout: manifest.timeout,
            env,
            architecture: code.architecture,
            code_sha256: code.code_sha256.clone(),
        }
    }

    fn settings(&self, role_arn: &str) -> FunctionSettings {
        FunctionSettings {
            role_arn: role_arn.to_owned(),
            memory: self.memory,
            timeout: self.timeout,
            env: self.env.clone(),
            description: self.description.clone(),
        }
    }
}

/// The ARNs that depend on the account, known once the role or the function exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub partition: String,
    pub id: String,
}

impl Account {
    fn from_arn(arn: &str) -> Option<Account> {
        Some(Account {
            partition: partition_of(arn)?.to_owned(),
            id: account_of(arn)?.to_owned(),
        })
    }

    pub fn role_arn(&self, role: &str) -> String {
        format!("arn:{}:iam::{}:role/{role}", self.partition, self.id)
    }

    pub fn function_arn(&self, region: &str, function: &str) -> String {
        format!(
            "arn:{}:lambda:{region}:{}:function:{function}",
            self.partition, self.id
        )
    }

    /// `arn:aws:execute-api:{region}:{account}:{apiId}`.
    pub fn api_arn(&self, region: &str, api: &str) -> String {
        format!(
            "arn:{}:execute-api:{region}:{}:{api}",
            self.partition, self.id
        )
    }

    /// What API Gateway's `AWS_PROXY` integration invokes.
    pub fn integration_uri(&self, region: &str, function: &str) -> String {
        format!(
            "arn:{}:apigateway:{region}:lambda:path/2015-03-31/functions/{}/invocations",
            self.partition,
            self.function_arn(region, function)
        )
    }
}

/// What exists of a stage, read from AWS (never from the state file alone).
#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub role: Option<Role>,
    pub basic_execution_attached: bool,
    pub inline_policy: Option<Value>,
    pub api: Option<Api>,
    /// More APIs tagged with this stage (left by an interrupted run or a tool that allowed it).
    pub duplicate_apis: Vec<Api>,
    pub integrations: Vec<Integration>,
    pub routes: Vec<Route>,
    pub stage: Option<Stage>,
    pub function: Option<Function>,
    pub permission_source: Option<String>,
    /// Resources with this stage's names that belong to something else: never touched.
    pub foreign: Vec<(&'static str, String)>,
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
            return Ok::<_, AwsError>((None, false, None));
        };
        if !names.owns(&role.tags) {
            return Ok((Some(role), false, None));
        }
        let partition = partition_of(&role.arn).unwrap_or("aws").to_owned();
        let basic = iam::basic_execution_policy_arn(&partition);
        let (attached, inline) = tokio::try_join!(
            iam::attached_policies(clients, &role.name),
            iam::inline_policy(clients, &role.name, iam::MANAGE_CONNECTIONS_POLICY),
        )?;
        Ok((Some(role), attached.contains(&basic), inline))
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
        let recorded = state.and_then(|s| s.api.as_ref()).map(|a| a.id.clone());
        let mut apis = Vec::new();
        if let Some(id) = recorded {
            if let Some(api) = apigateway::get_api(clients, &id).await? {
                if names.owns(&api.tags) {
                    apis.push(api);
                }
            }
        }
        if apis.is_empty() {
            apis = apigateway::find_apis(clients, &names.tags()).await?;
        }
        let mut apis = apis.into_iter();
        let Some(api) = apis.next() else {
            return Ok::<_, AwsError>((None, Vec::new(), Vec::new(), Vec::new(), None));
        };
        let (integrations, routes, stage) = tokio::try_join!(
            apigateway::integrations(clients, &api.id),
            apigateway::routes(clients, &api.id),
            apigateway::get_stage(clients, &api.id, &names.stage),
        )?;
        Ok((Some(api), apis.collect(), integrations, routes, stage))
    };
    let (
        (role, basic, inline),
        (function, permission),
        (api, duplicates, integrations, routes, stage),
    ) = tokio::try_join!(role, function, api)?;

    let mut observed = Observed {
        basic_execution_attached: basic,
        inline_policy: inline,
        duplicate_apis: duplicates,
        integrations,
        routes,
        stage,
        permission_source: permission,
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
    Ok(observed)
}

/// One call (or a few, for deletes) that closes part of the difference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    CreateRole,
    AttachBasicExecution,
    CreateApi,
    UpdateApi,
    DeleteDuplicateApi(String),
    PutManageConnectionsPolicy,
    CreateFunction,
    UpdateConfiguration(Vec<&'static str>),
    UpdateCode,
    CreateIntegration,
    UpdateIntegration(String),
    CreateRoute(String),
    RetargetRoute { key: String, id: String },
    DeleteRoute { key: String, id: String },
    DeleteIntegration(String),
    CreateStage,
    EnableAutoDeploy,
    AddPermission,
    ReplacePermission,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::CreateRole => write!(f, "create IAM role"),
            Change::AttachBasicExecution => write!(f, "attach basic execution policy"),
            Change::CreateApi => write!(f, "create WebSocket API"),
            Change::UpdateApi => write!(f, "update API route selection"),
            Change::DeleteDuplicateApi(id) => write!(f, "delete duplicate API {id}"),
            Change::PutManageConnectionsPolicy => write!(f, "scope role to the API"),
            Change::CreateFunction => write!(f, "create function"),
            Change::UpdateConfiguration(fields) => {
                write!(f, "update function configuration ({})", fields.join(", "))
            }
            Change::UpdateCode => write!(f, "update function code"),
            Change::CreateIntegration => write!(f, "create integration"),
            Change::UpdateIntegration(_) => write!(f, "point integration at the function"),
            Change::CreateRoute(key) => write!(f, "add route {key}"),
            Change::RetargetRoute { key, .. } => write!(f, "point route {key} at the integration"),
            Change::DeleteRoute { key, .. } => write!(f, "delete route {key}"),
            Change::DeleteIntegration(id) => write!(f, "delete extra integration {id}"),
            Change::CreateStage => write!(f, "create stage"),
            Change::EnableAutoDeploy => write!(f, "enable stage auto-deploy"),
            Change::AddPermission => write!(f, "allow API Gateway to invoke the function"),
            Change::ReplacePermission => write!(f, "re-scope the invoke permission to the API"),
        }
    }
}

/// The changes that turn `observed` into `desired`, in the order they must be made.
pub fn plan(desired: &Desired, observed: &Observed) -> Vec<Change> {
    let names = &desired.names;
    let region = &names.region;
    let account = observed.account();
    let mut changes = Vec::new();

    // The role first: the function needs it, and IAM takes a moment to propagate it.
    if observed.role.is_none() {
        changes.push(Change::CreateRole);
    }
    if !observed.basic_execution_attached {
        changes.push(Change::AttachBasicExecution);
    }

    match &observed.api {
        None => changes.push(Change::CreateApi),
        Some(api) => {
            if api.route_selection != desired.route_selection
                || api.description != desired.description
            {
                changes.push(Change::UpdateApi);
            }
        }
    }
    for dup in &observed.duplicate_apis {
        changes.push(Change::DeleteDuplicateApi(dup.id.clone()));
    }

    let api_arn = match (&account, &observed.api) {
        (Some(account), Some(api)) => Some(account.api_arn(region, &api.id)),
        _ => None,
    };
    let policy_ok = match (&api_arn, &observed.inline_policy) {
        (Some(arn), Some(doc)) => iam::grants_manage_connections(doc, arn),
        _ => false,
    };
    if !policy_ok {
        changes.push(Change::PutManageConnectionsPolicy);
    }

    match &observed.function {
        None => changes.push(Change::CreateFunction),
        Some(function) => {
            let role_arn = account
                .as_ref()
                .map(|a| a.role_arn(&names.role))
                .unwrap_or_default();
            let fields = function.differences(&desired.settings(&role_arn));
            if !fields.is_empty() {
                changes.push(Change::UpdateConfiguration(fields));
            }
            if function.code_sha256 != desired.code_sha256
                || function.architecture != Some(desired.architecture)
            {
                changes.push(Change::UpdateCode);
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
            changes.push(Change::UpdateIntegration(first.id.clone()));
            Some(first.id.clone())
        }
        (true, None, None) => None,
    };
    if kept.is_none() {
        changes.push(Change::CreateIntegration);
    }

    let target = kept.as_ref().map(|id| format!("integrations/{id}"));
    let mut present = BTreeSet::new();
    for route in &observed.routes {
        if !desired.routes.contains(&route.key) || !present.insert(route.key.clone()) {
            changes.push(Change::DeleteRoute {
                key: route.key.clone(),
                id: route.id.clone(),
            });
        } else if Some(&route.target) != target.as_ref() {
            changes.push(Change::RetargetRoute {
                key: route.key.clone(),
                id: route.id.clone(),
            });
        }
    }
    for key in desired.routes.difference(&present) {
        changes.push(Change::CreateRoute(key.clone()));
    }
    for extra in &observed.integrations {
        if Some(&extra.id) != kept.as_ref() {
            changes.push(Change::DeleteIntegration(extra.id.clone()));
        }
    }

    match &observed.stage {
        None => changes.push(Change::CreateStage),
        Some(stage) if !stage.auto_deploy => changes.push(Change::EnableAutoDeploy),
        Some(_) => {}
    }

    match (&observed.function, &observed.permission_source, &api_arn) {
        (Some(_), Some(source), Some(arn)) if *source == format!("{arn}/*") => {}
        (Some(_), Some(_), _) => changes.push(Change::ReplacePermission),
        _ => changes.push(Change::AddPermission),
    }
    changes
}

/// What a deploy did, for outputs and the call count.
#[derive(Debug)]
pub struct DeployReport {
    pub outputs: Outputs,
    pub changes: Vec<Change>,
}

/// Applies a plan, recording each created resource in the state file as soon as it exists.
struct Deployer<'a> {
    clients: &'a Clients,
    desired: &'a Desired,
    code: &'a CodeBundle,
    reporter: Reporter,
    project_dir: &'a Path,
    state: State,
    account: Option<Account>,
    role_arn: Option<String>,
    api_id: Option<String>,
    function_arn: Option<String>,
    integration_id: Option<String>,
    routes: BTreeMap<String, String>,
    /// `CodeSha256` of the code the function runs.
    code_sha256: Option<String>,
}

impl Deployer<'_> {
    fn account(&self) -> &Account {
        self.account
            .as_ref()
            .expect("the role exists before anything needs the account")
    }

    fn api_id(&self) -> &str {
        self.api_id
            .as_deref()
            .expect("the API exists before its parts are made")
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

    async fn apply(&mut self, changes: &[Change]) -> Result<(), DeployError> {
        for change in changes {
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
        let tags = names.tags();
        let detail = match change {
            Change::CreateRole => {
                let role = iam::create_role(
                    c,
                    &names.role,
                    &format!("Lambda role of {} ({})", names.service, names.stage),
                    &tags,
                )
                .await?;
                self.account = Account::from_arn(&role.arn);
                self.role_arn = Some(role.arn);
                self.save()?;
                names.role.clone()
            }
            Change::AttachBasicExecution => {
                let arn = iam::basic_execution_policy_arn(&self.account().partition);
                iam::attach_policy(c, &names.role, &arn).await?;
                "AWSLambdaBasicExecutionRole".into()
            }
            Change::CreateApi => {
                let id = apigateway::create_api(
                    c,
                    &names.api,
                    &d.route_selection,
                    &d.description,
                    &tags,
                )
                .await?;
                self.api_id = Some(id.clone());
                self.routes.clear();
                self.integration_id = None;
                self.save()?;
                id
            }
            Change::UpdateApi => {
                apigateway::update_api(c, self.api_id(), &d.route_selection, &d.description)
                    .await?;
                d.route_selection.clone()
            }
            Change::DeleteDuplicateApi(id) => {
                apigateway::delete_api(c, id).await?;
                id.clone()
            }
            Change::PutManageConnectionsPolicy => {
                let api_arn = self.account().api_arn(&names.region, self.api_id());
                let doc = iam::manage_connections_policy(&api_arn);
                iam::put_inline_policy(c, &names.role, iam::MANAGE_CONNECTIONS_POLICY, &doc)
                    .await?;
                format!("{api_arn}/*")
            }
            Change::CreateFunction => {
                let role_arn = self.role_arn.clone().unwrap_or_default();
                let arn = lambda::create_function(
                    c,
                    &names.function,
                    &d.settings(&role_arn),
                    d.architecture,
                    &self.code.zip,
                    &tags,
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
                format!("{} ({} KiB)", names.function, self.code.zip.len() / 1024)
            }
            Change::UpdateConfiguration(fields) => {
                let role_arn = self.role_arn.clone().unwrap_or_default();
                lambda::update_configuration(c, &names.function, &d.settings(&role_arn)).await?;
                fields.join(", ")
            }
            Change::UpdateCode => {
                lambda::update_code(c, &names.function, d.architecture, &self.code.zip).await?;
                self.code_sha256 = Some(self.code.code_sha256.clone());
                self.save()?;
                format!("{} KiB uploaded", self.code.zip.len() / 1024)
            }
            Change::CreateIntegration => {
                let uri = self
                    .account()
                    .integration_uri(&names.region, &names.function);
                let id = apigateway::create_integration(c, self.api_id(), &uri).await?;
                self.integration_id = Some(id.clone());
                self.save()?;
                id
            }
            Change::UpdateIntegration(id) => {
                let uri = self
                    .account()
                    .integration_uri(&names.region, &names.function);
                apigateway::update_integration(c, self.api_id(), id, &uri).await?;
                self.integration_id = Some(id.clone());
                id.clone()
            }
            Change::CreateRoute(key) => {
                let target = self.target();
                let id = apigateway::create_route(c, self.api_id(), key, &target).await?;
                self.routes.insert(key.clone(), id.clone());
                self.save()?;
                id
            }
            Change::RetargetRoute { key, id } => {
                let target = self.target();
                apigateway::retarget_route(c, self.api_id(), id, &target).await?;
                self.routes.insert(key.clone(), id.clone());
                target
            }
            Change::DeleteRoute { key, id } => {
                apigateway::delete_route(c, self.api_id(), id).await?;
                if self.routes.get(key) == Some(id) {
                    self.routes.remove(key);
                }
                id.clone()
            }
            Change::DeleteIntegration(id) => {
                apigateway::delete_integration(c, self.api_id(), id).await?;
                id.clone()
            }
            Change::CreateStage => {
                apigateway::create_stage(c, self.api_id(), &names.stage, &tags).await?;
                self.state.api.get_or_insert_with(ApiState::default).stage =
                    Some(names.stage.clone());
                self.save()?;
                format!("{} (auto-deploy)", names.stage)
            }
            Change::EnableAutoDeploy => {
                apigateway::enable_auto_deploy(c, self.api_id(), &names.stage).await?;
                names.stage.clone()
            }
            Change::AddPermission | Change::ReplacePermission => {
                let source = format!("{}/*", self.account().api_arn(&names.region, self.api_id()));
                if *change == Change::ReplacePermission {
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
        };
        Ok(detail)
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

/// Converges the stage described by `manifest` on `code`. The caller holds the stage lock.
pub async fn deploy(
    manifest: &Manifest,
    clients: &Clients,
    code: &CodeBundle,
    reporter: Reporter,
) -> Result<DeployReport, DeployError> {
    let started = Instant::now();
    if code.zip.len() > MAX_DIRECT_UPLOAD {
        return Err(DeployError::PackageTooLarge {
            size: code.zip.len(),
        });
    }
    let desired = Desired::new(manifest, code);
    let names = &desired.names;
    let recorded = State::load(&manifest.dir, &names.service, &names.stage, &names.region);

    let step = reporter.step(format!(
        "Reading {} › {} in {}",
        names.service, names.stage, names.region
    ));
    let observed = match observe(clients, names, recorded.as_ref()).await {
        Ok(observed) => observed,
        Err(err) => {
            step.failed();
            return Err(err.into());
        }
    };
    if let Some((kind, name)) = observed.foreign.first() {
        step.failed();
        return Err(DeployError::NameTaken {
            kind,
            name: name.clone(),
            service: names.service.clone(),
            stage: names.stage.clone(),
        });
    }
    let changes = plan(&desired, &observed);
    step.done(if observed.is_empty() {
        "nothing deployed yet".to_owned()
    } else if changes.is_empty() {
        "up to date".to_owned()
    } else {
        format!(
            "{} change{}",
            changes.len(),
            if changes.len() == 1 { "" } else { "s" }
        )
    });

    let account = observed.account();
    let mut deployer = Deployer {
        clients,
        desired: &desired,
        code,
        reporter,
        project_dir: &manifest.dir,
        state: recorded.unwrap_or_else(|| State::new(&names.service, &names.stage, &names.region)),
        role_arn: observed.role.as_ref().map(|r| r.arn.clone()),
        account,
        api_id: observed.api.as_ref().map(|a| a.id.clone()),
        function_arn: observed.function.as_ref().map(|f| f.arn.clone()),
        integration_id: None,
        routes: BTreeMap::new(),
        code_sha256: observed.function.as_ref().map(|f| f.code_sha256.clone()),
    };
    // Carry over what exists and stays, so the state file is complete even with no changes.
    if observed.api.is_some() {
        deployer.integration_id = observed
            .integrations
            .iter()
            .find(|i| !changes.contains(&Change::DeleteIntegration(i.id.clone())))
            .map(|i| i.id.clone());
        for route in &observed.routes {
            let deleted = changes.contains(&Change::DeleteRoute {
                key: route.key.clone(),
                id: route.id.clone(),
            });
            if !deleted {
                deployer.routes.insert(route.key.clone(), route.id.clone());
            }
        }
        if observed.stage.is_some() {
            deployer
                .state
                .api
                .get_or_insert_with(ApiState::default)
                .stage = Some(names.stage.clone());
        }
    }
    if let (Some(source), Some(_)) = (&observed.permission_source, &observed.function) {
        deployer.state.permission = Some(PermissionState {
            statement_id: lambda::PERMISSION_ID.into(),
            source_arn: source.clone(),
        });
    }
    if deployer.account.is_none() && !changes.contains(&Change::CreateRole) {
        // Cannot happen (no role and no function means CreateRole is planned), but never guess.
        return Err(AwsError::NotReady {
            what: format!("the account of IAM role {}", names.role),
        }
        .into());
    }

    if changes.is_empty() {
        reporter.info("No changes: the stage already matches the manifest and the code.");
    }
    deployer.apply(&changes).await?;

    let outputs = Outputs {
        service: names.service.clone(),
        url: crate::outputs::url(deployer.api_id(), &names.region, &names.stage),
        stage: names.stage.clone(),
        region: names.region.clone(),
        api_id: deployer.api_id().to_owned(),
        function_name: names.function.clone(),
        routes: crate::outputs::ordered_routes(desired.routes.iter().cloned()),
        code: CodeOutputs {
            runtime: lambda::RUNTIME.to_owned(),
            architecture: arch_name(desired.architecture).to_owned(),
            memory: desired.memory,
            timeout: desired.timeout,
            env: user_env_names(desired.env.keys()),
        },
        changes: Some(changes.iter().map(|c| c.to_string()).collect()),
        elapsed_ms: Some(started.elapsed().as_millis() as u64),
    };
    Ok(DeployReport { outputs, changes })
}

/// Options of `socket deploy`.
#[derive(Clone, Debug, Default)]
pub struct DeployOptions {
    /// Deploy this zip (holding `bootstrap`) instead of building the handler crate.
    pub package: Option<PathBuf>,
    pub output: crate::outputs::OutputOptions,
}

/// `socket deploy`: load the manifest, take the stage lock, get the code, converge, print outputs.
pub async fn run(
    config: &Path,
    overrides: &Overrides,
    options: &DeployOptions,
) -> miette::Result<()> {
    let reporter = options.output.start();
    let manifest = Manifest::load(config, overrides)?;
    for warning in manifest.warnings() {
        reporter.info(format!("warning: {warning}"));
    }
    let _lock = StageLock::acquire(&manifest.dir, &manifest.stage, "deploy")?;
    // Credentials first: a missing key should not cost a build of several minutes.
    let clients = crate::aws::connect(&manifest).await?;
    let code = match &options.package {
        Some(path) => CodeBundle::read(path, manifest.architecture)?,
        None => {
            // Building runs cargo (blocking, minutes when cold): off the async threads.
            let for_build = manifest.clone();
            let package =
                tokio::task::spawn_blocking(move || socket_build::package(&for_build, reporter))
                    .await
                    .expect("the build task does not panic")?;
            CodeBundle::read(&package.zip, package.architecture)?
        }
    };
    let result = deploy(&manifest, &clients, &code, reporter).await;
    tracing::debug!(target: "socket::aws", "{}", clients.calls.summary());
    let report = result?;
    report.outputs.print(options.output.json);
    Ok(())
}

/// `arm64` / `x86_64`.
pub fn arch_name(arch: Architecture) -> &'static str {
    match arch {
        Architecture::Arm64 => "arm64",
        Architecture::X86_64 => "x86_64",
    }
}

/// The user's environment variable names (not the ones `socket` adds for the runtime).
pub fn user_env_names<'a>(names: impl Iterator<Item = &'a String>) -> Vec<String> {
    names
        .filter(|n| n.as_str() != ROUTE_SELECTION_ENV)
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired() -> Desired {
        Desired {
            names: StageNames::new("echo", "dev", "us-east-1"),
            route_selection: "$request.body.route".into(),
            description: String::new(),
            routes: ["$connect", "$disconnect", "$default", "message"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            memory: 512,
            timeout: 10,
            env: BTreeMap::from([(
                ROUTE_SELECTION_ENV.to_owned(),
                "$request.body.route".to_owned(),
            )]),
            architecture: Architecture::Arm64,
            code_sha256: "abc=".into(),
        }
    }

    /// What a complete, matching deploy of `desired()` looks like.
    fn converged(d: &Desired) -> Observed {
        let account = Account {
            partition: "aws".into(),
            id: "123456789012".into(),
        };
        let names = &d.names;
        let api_arn = account.api_arn(&names.region, "api1");
        Observed {
            role: Some(Role {
                name: names.role.clone(),
                arn: account.role_arn(&names.role),
                tags: names.tags(),
            }),
            basic_execution_attached: true,
            inline_policy: Some(iam::manage_connections_policy(&api_arn)),
            api: Some(Api {
                id: "api1".into(),
                name: names.api.clone(),
                route_selection: d.route_selection.clone(),
                description: String::new(),
                tags: names.tags(),
                created: 0,
            }),
            duplicate_apis: vec![],
            integrations: vec![Integration {
                id: "int1".into(),
                kind: "AWS_PROXY".into(),
                uri: account.integration_uri(&names.region, &names.function),
            }],
            routes: d
                .routes
                .iter()
                .enumerate()
                .map(|(i, key)| Route {
                    id: format!("r{i}"),
                    key: key.clone(),
                    target: "integrations/int1".into(),
                })
                .collect(),
            stage: Some(Stage {
                name: "dev".into(),
                auto_deploy: true,
            }),
            function: Some(Function {
                name: names.function.clone(),
                arn: account.function_arn(&names.region, &names.function),
                runtime: lambda::RUNTIME.into(),
                handler: lambda::HANDLER.into(),
                settings: d.settings(&account.role_arn(&names.role)),
                architecture: Some(Architecture::Arm64),
                code_sha256: d.code_sha256.clone(),
                tags: names.tags(),
            }),
            permission_source: Some(format!("{api_arn}/*")),
            foreign: vec![],
        }
    }

    #[test]
    fn nothing_exists_so_everything_is_created_once() {
        let changes = plan(&desired(), &Observed::default());
        assert_eq!(
            changes.iter().filter(|c| **c == Change::CreateApi).count(),
            1
        );
        assert_eq!(
            changes
                .iter()
                .filter(|c| **c == Change::CreateFunction)
                .count(),
            1
        );
        assert_eq!(
            changes
                .iter()
                .filter(|c| matches!(c, Change::CreateRoute(_)))
                .count(),
            4
        );
        assert!(changes.contains(&Change::AddPermission));
        // Dependency order: role, API, policy, function, integration, routes, stage, permission.
        let pos = |c: &Change| changes.iter().position(|x| x == c).unwrap();
        assert!(pos(&Change::CreateRole) < pos(&Change::CreateFunction));
        assert!(pos(&Change::CreateApi) < pos(&Change::PutManageConnectionsPolicy));
        assert!(pos(&Change::CreateIntegration) < pos(&Change::CreateRoute("message".into())));
        assert!(pos(&Change::CreateStage) < pos(&Change::AddPermission));
    }

    #[test]
    fn a_converged_stage_plans_nothing() {
        let d = desired();
        assert_eq!(plan(&d, &converged(&d)), vec![]);
    }

    #[test]
    fn each_difference_plans_only_its_change() {
        let d = desired();
        let mut code = d.clone();
        code.code_sha256 = "new=".into();
        assert_eq!(plan(&code, &converged(&d)), vec![Change::UpdateCode]);

        let mut config = d.clone();
        config.memory = 1024;
        config.env.insert("TABLE".into(), "t".into());
        assert_eq!(
            plan(&config, &converged(&d)),
            vec![Change::UpdateConfiguration(vec!["memory", "env"])]
        );

        let mut routes = d.clone();
        routes.routes.remove("message");
        routes.routes.insert("chat".into());
        assert_eq!(
            plan(&routes, &converged(&d)),
            vec![
                Change::DeleteRoute {
                    key: "message".into(),
                    id: "r3".into()
                },
                Change::CreateRoute("chat".into())
            ]
        );
    }

    #[test]
    fn a_new_api_rescopes_the_policy_and_the_permission() {
        let d = desired();
        let mut observed = converged(&d);
        observed.api = None;
        observed.integrations.clear();
        observed.routes.clear();
        observed.stage = None;
        let changes = plan(&d, &observed);
        assert!(changes.contains(&Change::CreateApi));
        assert!(changes.contains(&Change::PutManageConnectionsPolicy));
        assert!(changes.contains(&Change::ReplacePermission));
        assert!(!changes.contains(&Change::CreateFunction));
        assert!(!changes.contains(&Change::UpdateCode));
    }

    #[test]
    fn duplicates_are_removed_and_routes_deduplicated() {
        let d = desired();
        let mut observed = converged(&d);
        let mut dup = observed.api.clone().unwrap();
        dup.id = "api2".into();
        observed.duplicate_apis.push(dup);
        observed.routes.push(Route {
            id: "r9".into(),
            key: "message".into(),
            target: "integrations/int1".into(),
        });
        assert_eq!(
            plan(&d, &observed),
            vec![
                Change::DeleteDuplicateApi("api2".into()),
                Change::DeleteRoute {
                    key: "message".into(),
                    id: "r9".into()
                }
            ]
        );
    }

    #[test]
    fn names_fit_aws_limits_and_differ_by_stage_and_region() {
        let a = StageNames::new("echo", "dev", "us-east-1");
        let b = StageNames::new("echo", "prod", "us-east-1");
        let c = StageNames::new("echo", "dev", "eu-west-1");
        assert_eq!(a.function, "echo-dev");
        assert_ne!(a.role, b.role);
        assert_ne!(a.role, c.role);
        assert_eq!(a.log_group, "/aws/lambda/echo-dev");
        let long = StageNames::new(&"s".repeat(45), "staging", "ap-southeast-4");
        assert!(long.role.len() <= 64, "{}", long.role);
    }
}
