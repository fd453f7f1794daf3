//! Plans for made-up observations: what each difference costs, and nothing more.

use std::collections::BTreeMap;

use super::*;
use crate::aws::apigateway::{Api, Deployment, Integration, Route, Stage};
use crate::aws::dynamodb::Table;
use crate::aws::iam::Role;
use crate::aws::lambda::{self, Function};
use crate::aws::logs::LogGroup;
use crate::desired::ROUTE_SELECTION_ENV;
use crate::names::{Account, StageNames};
use socket_manifest::{Architecture, Registry};
use socket_protocol::env::{REGISTRY_TABLE, REGISTRY_TTL};

fn desired() -> Desired {
    let names = StageNames::new("echo", "dev", "us-east-1");
    Desired {
        tags: names.tags(),
        names,
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
        log_retention: 30,
        registry: None,
        authorizer: None,
        domain: None,
        statements: vec![],
        reserved_concurrency: None,
    }
}

fn account() -> Account {
    Account {
        partition: "aws".into(),
        id: "123456789012".into(),
    }
}

/// `desired()` with the connection registry on.
fn with_registry() -> Desired {
    let mut d = desired();
    let table = d.names.table.clone();
    d.env.insert(REGISTRY_TABLE.into(), table.clone());
    d.env.insert(REGISTRY_TTL.into(), "10800".into());
    d.registry = Some(Registry { table, ttl: 10800 });
    d
}

/// What a complete, matching deploy of `with_registry()` looks like.
fn converged_with_registry(d: &Desired) -> Observed {
    let mut observed = converged(d);
    let names = &d.names;
    let table_arn = account().table_arn(&names.region, &names.table);
    observed.table = Some(Table {
        name: names.table.clone(),
        arn: table_arn.clone(),
        status: "ACTIVE".into(),
        on_demand: true,
        ttl: Some("ttl".into()),
        tags: names.tags(),
    });
    observed.registry_policy = Some(iam::registry_policy(&table_arn));
    observed
}

/// What a complete, matching deploy of `desired()` looks like.
fn converged(d: &Desired) -> Observed {
    let account = account();
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
        registry_policy: None,
        statements_policy: None,
        reserved_concurrency: None,
        api: Some(Api {
            id: "api1".into(),
            name: names.api.clone(),
            route_selection: d.route_selection.clone(),
            description: String::new(),
            tags: names.tags(),
            created: 0,
            endpoint: String::new(),
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
                authorization_type: None,
                authorizer_id: None,
            })
            .collect(),
        stage: Some(Stage {
            name: "dev".into(),
            auto_deploy: false,
            deployment_id: Some("dep1".into()),
        }),
        deployment: Some(Deployment {
            id: "dep1".into(),
            status: "DEPLOYED".into(),
            message: String::new(),
        }),
        function: Some(Function {
            name: names.function.clone(),
            arn: account.function_arn(&names.region, &names.function),
            runtime: lambda::RUNTIME.into(),
            handler: lambda::HANDLER.into(),
            settings: d.settings(&account.role_arn(&names.role), Some("api1"), ""),
            architecture: Some(Architecture::Arm64),
            code_sha256: d.code_sha256.clone(),
            tags: names.tags(),
        }),
        permission_source: Some(format!("{api_arn}/*")),
        log_group: Some(LogGroup {
            name: names.log_group.clone(),
            arn: account.log_group_arn(&names.region, &names.log_group),
            retention_days: Some(d.log_retention),
            tags: names.tags(),
        }),
        table: None,
        foreign: vec![],
        authorizer: Default::default(),
        domains: Default::default(),
    }
}

fn route(key: &str, id: Option<&str>) -> Resource {
    Resource::Route {
        key: key.into(),
        id: id.map(str::to_owned),
    }
}

#[test]
fn nothing_exists_so_everything_is_created_once() {
    let plan = plan(&desired(), &Observed::default());
    let creates = |wanted: fn(&Resource) -> bool| {
        plan.iter()
            .filter(|c| c.action == Action::Create && wanted(&c.resource))
            .count()
    };
    assert_eq!(creates(|r| matches!(r, Resource::Api { .. })), 1);
    assert_eq!(creates(|r| *r == Resource::Function), 1);
    assert_eq!(creates(|r| matches!(r, Resource::Route { .. })), 4);
    assert!(plan.creates(&Resource::Permission));
    assert!(plan.iter().all(|c| c.action == Action::Create), "{plan:?}");
    // Dependency order: role, API, policy, function, integration, routes, stage, permission.
    let pos = |r: Resource| plan.iter().position(|c| c.resource == r).unwrap();
    assert!(pos(Resource::Role) < pos(Resource::Function));
    assert!(pos(Resource::LogGroup) < pos(Resource::Function));
    assert!(pos(Resource::Api { id: None }) < pos(Resource::ManageConnectionsPolicy));
    assert!(pos(Resource::Integration { id: None }) < pos(route("message", None)));
    assert!(pos(Resource::Stage) < pos(Resource::Deployment));
    assert!(pos(route("message", None)) < pos(Resource::Deployment));
}

#[test]
fn the_stage_is_redeployed_when_what_it_serves_changes_and_only_then() {
    let d = desired();
    let deploys = |observed: &Observed, d: &Desired| {
        plan(d, observed)
            .iter()
            .filter(|c| c.resource == Resource::Deployment)
            .count()
    };
    assert_eq!(deploys(&converged(&d), &d), 0);
    // Code and configuration are not part of a deployment.
    let mut code = d.clone();
    code.code_sha256 = "new=".into();
    code.memory = 1024;
    assert_eq!(deploys(&converged(&d), &code), 0);
    // A route, the API's route selection, an integration.
    let mut routes = d.clone();
    routes.routes.insert("chat".into());
    assert_eq!(deploys(&converged(&d), &routes), 1);
    let mut api = d.clone();
    api.route_selection = "$request.body.action".into();
    assert_eq!(deploys(&converged(&d), &api), 1);
    let mut integration = converged(&d);
    integration.integrations[0].uri = "arn:aws:apigateway:elsewhere".into();
    assert_eq!(deploys(&integration, &d), 1);
    // A stage that serves nothing, a deployment that failed or vanished.
    let mut none = converged(&d);
    none.stage.as_mut().unwrap().deployment_id = None;
    none.deployment = None;
    assert_eq!(deploys(&none, &d), 1);
    let mut failed = converged(&d);
    failed.deployment.as_mut().unwrap().status = "FAILED".into();
    assert_eq!(deploys(&failed, &d), 1);
    let mut vanished = converged(&d);
    vanished.deployment = None;
    assert_eq!(deploys(&vanished, &d), 1);
}

#[test]
fn an_auto_deploy_stage_is_switched_to_explicit_deployments() {
    let d = desired();
    let mut observed = converged(&d);
    observed.stage.as_mut().unwrap().auto_deploy = true;
    assert_eq!(
        plan(&d, &observed).changes(),
        [Change::update(Resource::Stage, vec!["auto_deploy"])]
    );
}

#[test]
fn a_converged_stage_plans_nothing() {
    let d = desired();
    assert_eq!(plan(&d, &converged(&d)), Plan::default());
}

#[test]
fn each_difference_plans_only_its_change() {
    let d = desired();
    let mut code = d.clone();
    code.code_sha256 = "new=".into();
    assert_eq!(
        plan(&code, &converged(&d)).changes(),
        [Change::update(Resource::FunctionCode, vec!["code"])]
    );

    let mut config = d.clone();
    config.memory = 1024;
    config.env.insert("TABLE".into(), "t".into());
    assert_eq!(
        plan(&config, &converged(&d)).changes(),
        [Change::update(Resource::Function, vec!["memory", "env"])]
    );

    let mut routes = d.clone();
    routes.routes.remove("message");
    routes.routes.insert("chat".into());
    assert_eq!(
        plan(&routes, &converged(&d)).changes(),
        [
            Change::delete(route("message", Some("r3"))),
            Change::create(route("chat", None)),
            Change::create(Resource::Deployment),
        ]
    );

    let mut retention = d.clone();
    retention.log_retention = 90;
    assert_eq!(
        plan(&retention, &converged(&d)).changes(),
        [Change::update(Resource::LogGroup, vec!["retention"])]
    );

    // A log group Lambda made on its own: never expires, untagged.
    let mut lambda_made = converged(&d);
    let group = lambda_made.log_group.as_mut().unwrap();
    group.retention_days = None;
    group.tags.clear();
    assert_eq!(
        plan(&d, &lambda_made).changes(),
        [Change::update(
            Resource::LogGroup,
            vec!["retention", "tags"]
        )]
    );

    let mut api = d.clone();
    api.route_selection = "$request.body.action".into();
    assert_eq!(
        plan(&api, &converged(&d)).changes()[0],
        Change::update(
            Resource::Api {
                id: Some("api1".into())
            },
            vec!["route_selection"]
        )
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
    let plan = plan(&d, &observed);
    assert!(plan.creates(&Resource::Api { id: None }));
    assert!(plan.changes().contains(&Change::update(
        Resource::ManageConnectionsPolicy,
        vec!["resource"]
    )));
    assert!(plan
        .changes()
        .contains(&Change::update(Resource::Permission, vec!["source_arn"])));
    assert!(!plan.creates(&Resource::Function));
    assert!(!plan.iter().any(|c| c.resource == Resource::FunctionCode));
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
        authorization_type: None,
        authorizer_id: None,
    });
    let plan = plan(&d, &observed);
    assert_eq!(
        plan.changes(),
        [
            Change::delete(Resource::Api {
                id: Some("api2".into())
            }),
            Change::delete(route("message", Some("r9"))),
            Change::create(Resource::Deployment),
        ]
    );
    assert!(plan.deletes(&route("message", Some("r9"))));
    assert!(!plan.deletes(&route("message", Some("r3"))));
}

#[test]
fn changes_read_as_before() {
    let said = |c: Change| c.to_string();
    assert_eq!(said(Change::create(Resource::Role)), "create IAM role");
    assert_eq!(
        said(Change::update(Resource::Function, vec!["memory", "env"])),
        "update function configuration (memory, env)"
    );
    assert_eq!(
        said(Change::delete(Resource::Api {
            id: Some("api2".into())
        })),
        "delete duplicate API api2"
    );
    assert_eq!(
        said(Change::update(route("chat", Some("r1")), vec!["target"])),
        "point route chat at the integration"
    );
}

#[test]
fn the_registry_is_created_before_the_function_and_converges_to_nothing() {
    let d = with_registry();
    let first = plan(&d, &Observed::default());
    let pos = |r: Resource| first.iter().position(|c| c.resource == r).unwrap();
    assert!(first.creates(&Resource::RegistryTable));
    assert!(first.creates(&Resource::RegistryTtl));
    assert!(first.creates(&Resource::RegistryPolicy));
    assert!(pos(Resource::RegistryTable) < pos(Resource::RegistryTtl));
    assert!(pos(Resource::RegistryTtl) < pos(Resource::Function));
    assert!(pos(Resource::RegistryPolicy) < pos(Resource::Function));

    assert_eq!(plan(&d, &converged_with_registry(&d)), Plan::default());

    // Turning it on for a deployed stage: the table, its TTL, the grant and the env, nothing else.
    assert_eq!(
        plan(&d, &converged(&desired())).changes(),
        [
            Change::create(Resource::RegistryTable),
            Change::create(Resource::RegistryTtl),
            Change::create(Resource::RegistryPolicy),
            Change::update(Resource::Function, vec!["env"]),
        ]
    );
}

#[test]
fn a_drifted_registry_is_put_back() {
    let d = with_registry();
    let mut observed = converged_with_registry(&d);
    let table = observed.table.as_mut().unwrap();
    table.on_demand = false;
    table.ttl = None;
    observed.registry_policy = Some(iam::registry_policy(&format!(
        "{}/index/*",
        account().table_arn(&d.names.region, &d.names.table)
    )));
    assert_eq!(
        plan(&d, &observed).changes(),
        [
            Change::update(Resource::RegistryTable, vec!["billing_mode"]),
            Change::create(Resource::RegistryTtl),
            Change::update(Resource::RegistryPolicy, vec!["resource"]),
        ]
    );

    let mut other_attribute = converged_with_registry(&d);
    other_attribute.table.as_mut().unwrap().ttl = Some("expires".into());
    assert_eq!(
        plan(&d, &other_attribute).changes(),
        [Change::update(Resource::RegistryTtl, vec!["attribute"])]
    );
}

#[test]
fn turning_the_registry_off_removes_it_after_the_function_stops_naming_it() {
    let on = with_registry();
    let off = desired();
    assert_eq!(
        plan(&off, &converged_with_registry(&on)).changes(),
        [
            Change::update(Resource::Function, vec!["env"]),
            Change::delete(Resource::RegistryPolicy),
            Change::delete(Resource::RegistryTable),
        ]
    );
}

#[test]
fn registry_changes_read_plainly() {
    let said = |c: Change| c.to_string();
    assert_eq!(
        said(Change::create(Resource::RegistryTable)),
        "create connection registry table"
    );
    assert_eq!(
        said(Change::create(Resource::RegistryTtl)),
        "enable TTL on the registry table"
    );
    assert_eq!(
        said(Change::update(Resource::RegistryPolicy, vec!["resource"])),
        "allow the function to use the registry table"
    );
    assert_eq!(
        said(Change::delete(Resource::RegistryPolicy)),
        "revoke the function's registry access"
    );
    assert_eq!(
        said(Change::delete(Resource::RegistryTable)),
        "delete connection registry table"
    );
}

#[test]
fn an_authorizer_is_created_attached_and_permitted_then_converges() {
    let mut d = desired();
    d.authorizer = Some(vec!["route.request.querystring.token".into()]);
    let mut observed = converged(&d);
    let first = plan(&d, &observed);
    assert_eq!(
        first.changes(),
        [
            Change::create(Resource::Authorizer { id: None }),
            Change::create(Resource::AuthorizerPermission),
        ]
    );

    let account = observed.account().unwrap();
    let names = &d.names;
    observed.authorizer.authorizer = Some(crate::aws::authorizer::Authorizer {
        id: "au1".into(),
        name: crate::authorizer::name(&d),
        kind: "REQUEST".into(),
        uri: account.integration_uri(&names.region, &names.function),
        identity_sources: vec!["route.request.querystring.token".into()],
    });
    observed.authorizer.permission_source = Some(crate::authorizer::source_arn(
        &account,
        &names.region,
        "api1",
        "au1",
    ));
    let connect = observed
        .routes
        .iter_mut()
        .find(|r| r.key == "$connect")
        .unwrap();
    connect.authorization_type = Some("CUSTOM".into());
    connect.authorizer_id = Some("au1".into());
    assert!(plan(&d, &observed).is_empty());

    // Other identity sources: an update; no authorizer wanted: detach, delete, unpermit.
    d.authorizer = Some(vec!["route.request.header.Authorization".into()]);
    assert_eq!(
        plan(&d, &observed).changes(),
        [Change::update(
            Resource::Authorizer {
                id: Some("au1".into())
            },
            vec!["identity_sources"]
        )]
    );
    d.authorizer = None;
    assert_eq!(
        plan(&d, &observed).changes(),
        [
            Change::update(Resource::ConnectAuthorization, vec!["authorizer"]),
            Change::delete(Resource::Authorizer {
                id: Some("au1".into())
            }),
            Change::delete(Resource::AuthorizerPermission),
        ]
    );
}

#[test]
fn a_domain_is_created_and_mapped_a_new_base_path_remaps_and_removal_deletes() {
    use crate::aws::domain::{ApiMapping, DomainName};
    let mut d = desired();
    d.domain = Some(socket_manifest::Domain {
        name: "chat.example.com".into(),
        certificate: "arn:aws:acm:us-east-1:123456789012:certificate/c1".into(),
        base_path: "v1".into(),
    });
    let mut observed = converged(&d);
    let domain = |name: &str| Resource::DomainName { name: name.into() };
    let mapping = |id: Option<&str>| Resource::ApiMapping {
        domain: "chat.example.com".into(),
        id: id.map(str::to_owned),
    };
    assert_eq!(
        plan(&d, &observed).changes(),
        [
            Change::create(domain("chat.example.com")),
            Change::create(mapping(None)),
        ]
    );

    observed.domains.owned.push(DomainName {
        name: "chat.example.com".into(),
        tags: d.names.tags(),
        certificate: "arn:aws:acm:us-east-1:123456789012:certificate/c1".into(),
        endpoint_type: "REGIONAL".into(),
        security_policy: "TLS_1_2".into(),
        target: None,
        hosted_zone_id: None,
    });
    observed.domains.mappings.insert(
        "chat.example.com".into(),
        vec![ApiMapping {
            id: "m1".into(),
            api_id: "api1".into(),
            stage: "dev".into(),
            key: "v1".into(),
        }],
    );
    assert!(plan(&d, &observed).is_empty());

    d.domain.as_mut().unwrap().base_path = "v2".into();
    assert_eq!(
        plan(&d, &observed).changes(),
        [Change::update(mapping(Some("m1")), vec!["base_path"])]
    );

    d.domain = None;
    assert_eq!(
        plan(&d, &observed).changes(),
        [
            Change::delete(mapping(Some("m1"))),
            Change::delete(domain("chat.example.com")),
        ]
    );
}

#[test]
fn statements_concurrency_and_user_tags_on_an_in_sync_stage_plan_only_those() {
    let mut d = desired();
    d.statements = vec![socket_manifest::Statement {
        effect: socket_manifest::Effect::Allow,
        actions: vec!["s3:GetObject".into()],
        resources: vec!["*".into()],
    }];
    d.reserved_concurrency = Some(3);
    d.tags.insert("team".into(), "chat".into());
    let mut o = converged(&desired());
    let p = plan(&d, &o);
    let resources: Vec<String> = p
        .iter()
        .map(|c| format!("{} {}", c.action, c.resource))
        .collect();
    assert_eq!(
        resources,
        [
            "update (tags) log group",
            "create IAM statements policy",
            "create reserved concurrency",
            "update (tags) tags of the IAM role",
            "update (tags) tags of the function",
            "update (tags) tags of the API",
        ]
    );
    // Once they exist: nothing; a tag key no longer wanted is an update too.
    o.statements_policy = crate::function_settings::statements_policy(&d.statements);
    o.reserved_concurrency = Some(3);
    for tags in [
        &mut o.role.as_mut().unwrap().tags,
        &mut o.function.as_mut().unwrap().tags,
        &mut o.api.as_mut().unwrap().tags,
        &mut o.log_group.as_mut().unwrap().tags,
    ] {
        tags.insert("team".into(), "chat".into());
    }
    assert!(plan(&d, &o).is_empty(), "{:?}", plan(&d, &o));
    d.tags.remove("team");
    d.statements.clear();
    d.reserved_concurrency = None;
    let resources: Vec<String> = plan(&d, &o)
        .iter()
        .map(|c| format!("{} {}", c.action, c.resource))
        .collect();
    assert_eq!(resources.len(), 6, "{resources:?}");
    assert!(resources.contains(&"delete IAM statements policy".to_string()));
    assert!(resources.contains(&"delete reserved concurrency".to_string()));
}
