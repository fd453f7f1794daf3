//! Plans for made-up observations: what each difference costs, and nothing more.

use std::collections::BTreeMap;

use super::*;
use crate::aws::apigateway::{Api, Deployment, Integration, Route, Stage};
use crate::aws::iam::Role;
use crate::aws::lambda::{self, Function};
use crate::desired::ROUTE_SELECTION_ENV;
use crate::names::{Account, StageNames};
use socket_manifest::Architecture;

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
            settings: d.settings(&account.role_arn(&names.role)),
            architecture: Some(Architecture::Arm64),
            code_sha256: d.code_sha256.clone(),
            tags: names.tags(),
        }),
        permission_source: Some(format!("{api_arn}/*")),
        foreign: vec![],
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
