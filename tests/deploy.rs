//! `socket deploy`, `socket info` and `socket remove`: the real binary against moto (a local
//! implementation of the AWS APIs), one moto server per test.
//!
//! Every assertion reads the emulator with the AWS SDK: what exists after the command, not what
//! the command said. The project ([`Project`]) deploys a small zip (`--package`), so no test waits
//! for a cross-compiled build; what is deployed, and how, is the same.
//!
//! Two probes make "untouched" observable on moto: `Code.Location` of GetFunction changes with
//! every upload, and PublishVersion returns the previous version unless the code or the
//! configuration changed since (as on AWS).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use serde_json::Value;
use socket_protocol::percent;
use socket_tests::deploy_project::{Project, Spec, SERVICE};
use socket_tests::moto::{Aws, ACCOUNT, REGION};

// ---------------------------------------------------------------------------------------------
// What exists in the emulator.

fn tag_map(tags: Option<&std::collections::HashMap<String, String>>) -> BTreeMap<String, String> {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn ours(service: &str, stage: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("socket:service".into(), service.into()),
        ("socket:stage".into(), stage.into()),
    ])
}

/// IAM returns policy documents URL-encoded.
fn decode_policy(doc: &str) -> Value {
    let decoded = percent::decode(doc).unwrap_or_else(|| panic!("policy is not UTF-8: {doc}"));
    serde_json::from_str(&decoded).unwrap_or_else(|e| panic!("policy is not JSON ({e}): {doc}"))
}

/// A stage's auto deploy flag, the deployment it serves and its tags.
type StageSettings = (bool, Option<String>, BTreeMap<String, String>);

#[derive(Clone, Debug, PartialEq)]
struct ApiSnapshot {
    id: String,
    name: String,
    protocol: String,
    route_selection: String,
    tags: BTreeMap<String, String>,
    /// (id, type, uri)
    integrations: Vec<(String, String, String)>,
    /// key → (id, target)
    routes: BTreeMap<String, (String, String)>,
    /// name → (auto deploy, deployment served, tags)
    stages: BTreeMap<String, StageSettings>,
    /// (id, status), in the order they were made.
    deployments: Vec<(String, String)>,
    /// `ApiEndpoint` as the API reports it.
    endpoint: String,
}

#[derive(Clone, Debug, PartialEq)]
struct FunctionSnapshot {
    arn: String,
    runtime: String,
    handler: String,
    architectures: Vec<String>,
    memory: i32,
    timeout: i32,
    env: BTreeMap<String, String>,
    role: String,
    code_sha256: String,
    /// Changes with every upload.
    code_location: String,
    tags: BTreeMap<String, String>,
    /// The statements of the function's resource policy.
    permissions: Vec<Value>,
}

#[derive(Clone, Debug, PartialEq)]
struct RoleSnapshot {
    arn: String,
    tags: BTreeMap<String, String>,
    trust: Value,
    attached: BTreeSet<String>,
    inline: BTreeMap<String, Value>,
}

#[derive(Clone, Debug, PartialEq)]
struct TableSnapshot {
    arn: String,
    status: String,
    /// (attribute, HASH | RANGE)
    keys: Vec<(String, String)>,
    /// attribute → type
    attributes: BTreeMap<String, String>,
    billing: String,
    tags: BTreeMap<String, String>,
    /// (status, attribute) of DescribeTimeToLive.
    ttl: (String, String),
}

/// Everything of one stage, read with the SDK.
#[derive(Clone, Debug, PartialEq)]
struct StageSnapshot {
    apis: Vec<ApiSnapshot>,
    function: Option<FunctionSnapshot>,
    role: Option<RoleSnapshot>,
    /// (retention in days, tags) of the function's log group.
    log_group: Option<(Option<i32>, BTreeMap<String, String>)>,
    /// The connection registry's table.
    table: Option<TableSnapshot>,
}

impl StageSnapshot {
    fn api(&self) -> &ApiSnapshot {
        assert_eq!(self.apis.len(), 1, "exactly one API: {:#?}", self.apis);
        &self.apis[0]
    }

    fn function(&self) -> &FunctionSnapshot {
        self.function.as_ref().expect("the function exists")
    }

    fn role(&self) -> &RoleSnapshot {
        self.role.as_ref().expect("the role exists")
    }

    fn table(&self) -> &TableSnapshot {
        self.table.as_ref().expect("the registry table exists")
    }

    fn is_empty(&self) -> bool {
        self.apis.is_empty()
            && self.function.is_none()
            && self.role.is_none()
            && self.log_group.is_none()
            && self.table.is_none()
    }
}

async fn snapshot(aws: &Aws, service: &str, stage: &str) -> StageSnapshot {
    let tags = ours(service, stage);
    let mut apis = Vec::new();
    let all = aws.apigateway.get_apis().send().await.unwrap();
    for api in all.items() {
        if !tags
            .iter()
            .all(|(k, v)| api.tags().and_then(|t| t.get(k)) == Some(v))
        {
            continue;
        }
        let id = api.api_id().unwrap().to_owned();
        let integrations = aws
            .apigateway
            .get_integrations()
            .api_id(&id)
            .send()
            .await
            .unwrap();
        let routes = aws
            .apigateway
            .get_routes()
            .api_id(&id)
            .send()
            .await
            .unwrap();
        let stages = aws
            .apigateway
            .get_stages()
            .api_id(&id)
            .send()
            .await
            .unwrap();
        let deployments = aws
            .apigateway
            .get_deployments()
            .api_id(&id)
            .send()
            .await
            .unwrap();
        let mut route_map = BTreeMap::new();
        for r in routes.items() {
            let previous = route_map.insert(
                r.route_key().unwrap().to_owned(),
                (
                    r.route_id().unwrap().to_owned(),
                    r.target().unwrap_or_default().to_owned(),
                ),
            );
            assert!(
                previous.is_none(),
                "route {} exists twice",
                r.route_key().unwrap()
            );
        }
        apis.push(ApiSnapshot {
            id: id.clone(),
            name: api.name().unwrap_or_default().to_owned(),
            protocol: api
                .protocol_type()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            route_selection: api
                .route_selection_expression()
                .unwrap_or_default()
                .to_owned(),
            tags: tag_map(api.tags()),
            integrations: integrations
                .items()
                .iter()
                .map(|i| {
                    (
                        i.integration_id().unwrap().to_owned(),
                        i.integration_type()
                            .map(|t| t.as_str().to_owned())
                            .unwrap_or_default(),
                        i.integration_uri().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            routes: route_map,
            stages: stages
                .items()
                .iter()
                .map(|s| {
                    (
                        s.stage_name().unwrap().to_owned(),
                        (
                            s.auto_deploy().unwrap_or(false),
                            s.deployment_id().map(str::to_owned),
                            tag_map(s.tags()),
                        ),
                    )
                })
                .collect(),
            deployments: deployments
                .items()
                .iter()
                .map(|d| {
                    (
                        d.deployment_id().unwrap().to_owned(),
                        d.deployment_status()
                            .map(|s| s.as_str().to_owned())
                            .unwrap_or_default(),
                    )
                })
                .collect(),
            endpoint: api.api_endpoint().unwrap_or_default().to_owned(),
        });
    }

    let name = format!("{service}-{stage}");
    let function = match aws.lambda.get_function().function_name(&name).send().await {
        Ok(out) => {
            let c = out.configuration().unwrap();
            let permissions = match aws.lambda.get_policy().function_name(&name).send().await {
                Ok(p) => serde_json::from_str::<Value>(p.policy().unwrap()).unwrap()["Statement"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
                Err(_) => Vec::new(),
            };
            Some(FunctionSnapshot {
                arn: c.function_arn().unwrap().to_owned(),
                runtime: c
                    .runtime()
                    .map(|r| r.as_str().to_owned())
                    .unwrap_or_default(),
                handler: c.handler().unwrap_or_default().to_owned(),
                architectures: c
                    .architectures()
                    .iter()
                    .map(|a| a.as_str().to_owned())
                    .collect(),
                memory: c.memory_size().unwrap(),
                timeout: c.timeout().unwrap(),
                env: tag_map(c.environment().and_then(|e| e.variables())),
                role: c.role().unwrap_or_default().to_owned(),
                code_sha256: c.code_sha256().unwrap_or_default().to_owned(),
                code_location: out
                    .code()
                    .and_then(|c| c.location())
                    .unwrap_or_default()
                    .to_owned(),
                tags: tag_map(out.tags()),
                permissions,
            })
        }
        Err(e) => {
            assert_eq!(
                e.as_service_error()
                    .map(|e| e.is_resource_not_found_exception()),
                Some(true),
                "{e:?}"
            );
            None
        }
    };

    let role_name = format!("{service}-{stage}-{REGION}");
    let role = match aws.iam.get_role().role_name(&role_name).send().await {
        Ok(out) => {
            let r = out.role().unwrap();
            let attached = aws
                .iam
                .list_attached_role_policies()
                .role_name(&role_name)
                .send()
                .await
                .unwrap();
            let names = aws
                .iam
                .list_role_policies()
                .role_name(&role_name)
                .send()
                .await
                .unwrap();
            let mut inline = BTreeMap::new();
            for policy in names.policy_names() {
                let doc = aws
                    .iam
                    .get_role_policy()
                    .role_name(&role_name)
                    .policy_name(policy)
                    .send()
                    .await
                    .unwrap();
                inline.insert(policy.clone(), decode_policy(doc.policy_document()));
            }
            Some(RoleSnapshot {
                arn: r.arn().to_owned(),
                tags: r
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
                trust: decode_policy(r.assume_role_policy_document().unwrap()),
                attached: attached
                    .attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_owned))
                    .collect(),
                inline,
            })
        }
        Err(e) => {
            assert_eq!(
                e.as_service_error()
                    .map(|e| e.is_no_such_entity_exception()),
                Some(true),
                "{e:?}"
            );
            None
        }
    };

    let group = format!("/aws/lambda/{name}");
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(&group)
        .send()
        .await
        .unwrap();
    let mut log_group = None;
    if let Some(found) = groups
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(group.as_str()))
    {
        let tags = aws
            .logs
            .list_tags_for_resource()
            .resource_arn(found.log_group_arn().unwrap())
            .send()
            .await
            .unwrap();
        log_group = Some((found.retention_in_days(), tag_map(tags.tags())));
    }

    StageSnapshot {
        apis,
        function,
        role,
        log_group,
        table: table_snapshot(aws, &format!("{name}-connections")).await,
    }
}

async fn table_snapshot(aws: &Aws, name: &str) -> Option<TableSnapshot> {
    let out = match aws.dynamodb.describe_table().table_name(name).send().await {
        Ok(out) => out,
        Err(e) => {
            assert_eq!(
                e.as_service_error()
                    .map(|e| e.is_resource_not_found_exception()),
                Some(true),
                "{e:?}"
            );
            return None;
        }
    };
    let table = out.table().unwrap();
    let arn = table.table_arn().unwrap().to_owned();
    let tags = aws
        .dynamodb
        .list_tags_of_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let ttl = aws
        .dynamodb
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    Some(TableSnapshot {
        arn,
        status: table.table_status().unwrap().as_str().to_owned(),
        keys: table
            .key_schema()
            .iter()
            .map(|k| {
                (
                    k.attribute_name().to_owned(),
                    k.key_type().as_str().to_owned(),
                )
            })
            .collect(),
        attributes: table
            .attribute_definitions()
            .iter()
            .map(|a| {
                (
                    a.attribute_name().to_owned(),
                    a.attribute_type().as_str().to_owned(),
                )
            })
            .collect(),
        billing: table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str().to_owned())
            .unwrap_or_default(),
        tags: tags
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
        ttl: (
            ttl.time_to_live_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            ttl.attribute_name().unwrap_or_default().to_owned(),
        ),
    })
}

/// Totals in the whole emulator: no duplicate anywhere.
#[derive(Debug, PartialEq)]
struct Inventory {
    apis: usize,
    functions: Vec<String>,
    /// Roles other than the AWS-managed service roles moto may list.
    roles: Vec<String>,
}

async fn inventory(aws: &Aws) -> Inventory {
    let apis = aws
        .apigateway
        .get_apis()
        .send()
        .await
        .unwrap()
        .items()
        .len();
    let mut functions: Vec<String> = aws
        .lambda
        .list_functions()
        .send()
        .await
        .unwrap()
        .functions()
        .iter()
        .map(|f| f.function_name().unwrap().to_owned())
        .collect();
    functions.sort();
    let mut roles: Vec<String> = aws
        .iam
        .list_roles()
        .send()
        .await
        .unwrap()
        .roles()
        .iter()
        .map(|r| r.role_name().to_owned())
        .filter(|n| !n.starts_with("AWSServiceRole"))
        .collect();
    roles.sort();
    Inventory {
        apis,
        functions,
        roles,
    }
}

/// The stage is exactly what the issue asks for: API (routes, integration, stage), function,
/// role with the scoped policy, permission; all tagged.
fn assert_complete(s: &StageSnapshot, stage: &str, spec: &Spec) {
    let tags = ours(SERVICE, stage);
    let name = format!("{SERVICE}-{stage}");
    let api = s.api();
    assert_eq!(api.protocol, "WEBSOCKET");
    assert_eq!(api.name, name);
    assert_eq!(api.route_selection, "$request.body.route");
    assert_eq!(api.tags, tags);

    let function = s.function();
    let function_arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}");
    assert_eq!(function.arn, function_arn);
    assert_eq!(function.runtime, "provided.al2023");
    assert_eq!(function.handler, "bootstrap");
    assert_eq!(function.architectures, vec!["arm64"]);
    assert_eq!(function.memory, spec.memory as i32);
    assert_eq!(function.timeout, spec.timeout as i32);
    let mut env: BTreeMap<String, String> = spec
        .env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.insert(
        "SOCKET_ROUTE_SELECTION".into(),
        "$request.body.route".into(),
    );
    let table = format!("{name}-connections");
    if spec.connections {
        env.insert("SOCKET_REGISTRY_TABLE".into(), table.clone());
        env.insert("SOCKET_REGISTRY_TTL".into(), "10800".into());
    }
    // The API's own management endpoint, so sends never depend on the client's domain.
    env.insert(
        "SOCKET_MANAGEMENT_ENDPOINT".into(),
        format!(
            "https://{}.execute-api.{REGION}.amazonaws.com/{stage}",
            api.id
        ),
    );
    assert_eq!(function.env, env);
    assert_eq!(function.tags, tags);

    assert_eq!(
        api.integrations.len(),
        1,
        "one integration: {:?}",
        api.integrations
    );
    let (integration_id, kind, uri) = &api.integrations[0];
    assert_eq!(kind, "AWS_PROXY");
    assert_eq!(uri, &format!("arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"));

    let mut want_routes: BTreeSet<String> = ["$connect", "$disconnect", "$default"]
        .iter()
        .map(|r| r.to_string())
        .collect();
    want_routes.extend(spec.routes.iter().map(|r| r.to_string()));
    assert_eq!(
        api.routes.keys().cloned().collect::<BTreeSet<_>>(),
        want_routes
    );
    for (key, (_, target)) in &api.routes {
        assert_eq!(
            target,
            &format!("integrations/{integration_id}"),
            "route {key}"
        );
    }
    assert_eq!(
        api.stages.keys().collect::<Vec<_>>(),
        vec![stage],
        "one stage named after the stage"
    );
    let (auto_deploy, served, stage_tags) = &api.stages[stage];
    assert!(
        !auto_deploy,
        "deployments are explicit, so their status is known"
    );
    assert_eq!(stage_tags, &tags);
    let served = served.as_ref().expect("the stage serves a deployment");
    assert_eq!(
        api.deployments.last(),
        Some(&(served.clone(), "DEPLOYED".to_owned())),
        "the stage serves the latest deployment, which was built: {:?}",
        api.deployments
    );

    let api_arn = format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{}", api.id);
    assert_eq!(
        function.permissions.len(),
        1,
        "one permission: {:?}",
        function.permissions
    );
    let permission = &function.permissions[0];
    assert_eq!(
        permission["Principal"]["Service"],
        "apigateway.amazonaws.com"
    );
    assert_eq!(permission["Action"], "lambda:InvokeFunction");
    assert_eq!(
        permission["Condition"]["ArnLike"]["AWS:SourceArn"],
        format!("{api_arn}/*")
    );

    assert_eq!(
        s.log_group,
        Some((Some(30), tags.clone())),
        "the log group keeps 30 days by default and is tagged"
    );

    let role = s.role();
    assert_eq!(function.role, role.arn);
    assert_eq!(role.tags, tags);
    assert_eq!(
        role.trust["Statement"][0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );
    assert_eq!(
        role.attached,
        BTreeSet::from([
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole".to_owned()
        ])
    );
    let want_policies = if spec.connections {
        vec!["socket-connection-registry", "socket-manage-connections"]
    } else {
        vec!["socket-manage-connections"]
    };
    assert_eq!(
        role.inline.keys().collect::<Vec<_>>(),
        want_policies,
        "{:?}",
        role.inline
    );
    let statements = role.inline["socket-manage-connections"]["Statement"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(statements[0]["Action"], "execute-api:ManageConnections");
    assert_eq!(
        statements[0]["Resource"],
        format!("{api_arn}/*"),
        "scoped to this API only"
    );

    if !spec.connections {
        assert_eq!(s.table, None, "no registry table without `connections`");
        return;
    }
    let table_arn = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}");
    let registry = s.table();
    assert_eq!(registry.arn, table_arn);
    assert_eq!(registry.status, "ACTIVE");
    assert_eq!(
        registry.keys,
        vec![("pk".into(), "HASH".into()), ("sk".into(), "RANGE".into())]
    );
    assert_eq!(
        registry.attributes,
        BTreeMap::from([("pk".into(), "S".into()), ("sk".into(), "S".into())])
    );
    assert_eq!(registry.billing, "PAY_PER_REQUEST");
    assert_eq!(registry.tags, tags);
    assert_eq!(registry.ttl, ("ENABLED".into(), "ttl".into()));
    assert_eq!(
        role.inline["socket-connection-registry"],
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": [
                    "dynamodb:PutItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:GetItem",
                    "dynamodb:Query",
                    "dynamodb:BatchWriteItem"
                ],
                "Resource": table_arn
            }]
        }),
        "exactly the registry's actions on exactly its table"
    );
}

/// PublishVersion publishes a new version only if the code or configuration changed since the
/// last one: the version it returns tells whether the function was touched.
async fn publish(aws: &Aws, stage: &str) -> String {
    let out = aws
        .lambda
        .publish_version()
        .function_name(format!("{SERVICE}-{stage}"))
        .send()
        .await
        .unwrap();
    out.version().unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[tokio::test(flavor = "multi_thread")]
async fn first_deploy_creates_one_of_each_all_tagged_and_info_reports_it() {
    let project = Project::builder("first").start();
    let aws = &project.aws;

    let run = project.deploy("dev");
    let stage = snapshot(aws, SERVICE, "dev").await;
    assert_complete(&stage, "dev", &Spec::default());
    assert_eq!(
        inventory(aws).await,
        Inventory {
            apis: 1,
            functions: vec!["echo-dev".into()],
            roles: vec![format!("echo-dev-{REGION}")]
        }
    );
    assert!(project.state_file("dev").is_file());
    let state = std::fs::read_to_string(project.state_file("dev")).unwrap();
    assert!(
        !state.contains("echo-table"),
        "state holds env names, never values:\n{state}"
    );

    // The outputs match what exists: the URL is the API's own endpoint (not one built here).
    let api_id = &stage.api().id;
    let outputs = run.json();
    let endpoint = &stage.api().endpoint;
    assert!(endpoint.starts_with("wss://"), "{endpoint}");
    assert_eq!(outputs["url"], format!("{endpoint}/dev"));
    assert_eq!(
        outputs["managementEndpoint"],
        format!("https://{}/dev", endpoint.trim_start_matches("wss://"))
    );
    assert_eq!(
        stage.api().deployments.len(),
        1,
        "one deployment, made after the routes"
    );
    let writes = run.writes();
    let last_route = writes
        .iter()
        .rposition(|w| w == "ApiGatewayV2.CreateRoute")
        .unwrap();
    let deployed = writes
        .iter()
        .position(|w| w == "ApiGatewayV2.CreateDeployment")
        .unwrap();
    assert!(last_route < deployed, "{writes:?}");
    assert_eq!(
        writes[deployed + 1],
        "ApiGatewayV2.UpdateStage",
        "{writes:?}"
    );
    assert_eq!(outputs["apiId"], *api_id);
    assert_eq!(outputs["stage"], "dev");
    assert_eq!(outputs["region"], REGION);
    assert_eq!(outputs["functionName"], "echo-dev");
    assert_eq!(
        outputs["routes"],
        serde_json::json!(["$connect", "$disconnect", "$default", "message"])
    );
    assert_eq!(outputs["code"]["env"], serde_json::json!(["TABLE_NAME"]));
    assert!(
        !run.stdout.contains("echo-table"),
        "env values are never printed"
    );

    let info = project
        .run(&["info", "--stage", "dev", "--json"])
        .success()
        .json();
    for key in [
        "url",
        "stage",
        "region",
        "apiId",
        "functionName",
        "routes",
        "code",
    ] {
        assert_eq!(info[key], outputs[key], "info and deploy agree on {key}");
    }
    let human = project.run(&["info", "--stage", "dev"]).success();
    assert!(
        human.stdout.contains(&format!(
            "url:  wss://{api_id}.execute-api.{REGION}.amazonaws.com/dev"
        )),
        "{}",
        human.stdout
    );

    let missing = project.run(&["info", "--stage", "prod"]).failure();
    assert!(
        missing.stderr.contains("not deployed"),
        "{}",
        missing.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn second_deploy_without_changes_touches_nothing() {
    let project = Project::builder("noop").deployed("dev").start();
    let aws = &project.aws;
    let version = publish(aws, "dev").await;
    let before = snapshot(aws, SERVICE, "dev").await;

    let again = project.deploy("dev");
    assert_eq!(
        again.writes(),
        Vec::<String>::new(),
        "no write call at all; calls: {:?}",
        again.calls()
    );
    assert_eq!(again.json()["changes"], serde_json::json!([]));
    let after = snapshot(aws, SERVICE, "dev").await;
    assert_eq!(
        after, before,
        "identical ids, code location (no upload) and configuration"
    );
    assert_eq!(
        publish(aws, "dev").await,
        version,
        "the function was neither updated nor re-uploaded"
    );

    let human = project
        .run(&[
            "deploy",
            "--stage",
            "dev",
            "--package",
            project.zip().to_str().unwrap(),
        ])
        .success();
    assert!(human.stderr.contains("No changes"), "{}", human.stderr);
    assert_eq!(snapshot(aws, SERVICE, "dev").await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn changed_code_updates_only_the_code() {
    let project = Project::builder("code").deployed("dev").start();
    let aws = &project.aws;
    let version = publish(aws, "dev").await;
    let before = snapshot(aws, SERVICE, "dev").await;

    project.write_code("v2");
    let run = project.deploy("dev");
    assert_eq!(run.writes(), vec!["Lambda.UpdateFunctionCode"]);
    let after = snapshot(aws, SERVICE, "dev").await;
    assert_ne!(after.function().code_sha256, before.function().code_sha256);
    assert_ne!(
        after.function().code_location,
        before.function().code_location,
        "uploaded"
    );
    let mut expected = before.clone();
    let function = expected.function.as_mut().unwrap();
    function.code_sha256 = after.function().code_sha256.clone();
    function.code_location = after.function().code_location.clone();
    assert_eq!(after, expected, "nothing but the code changed");
    assert_ne!(publish(aws, "dev").await, version);

    // The uploaded zip is the one given: Lambda's CodeSha256 is the base64 SHA-256 of the zip.
    use base64::Engine as _;
    use sha2::Digest as _;
    let zip = std::fs::read(project.zip()).unwrap();
    let sha = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&zip));
    assert_eq!(after.function().code_sha256, sha);
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(project.state_file("dev")).unwrap()).unwrap();
    assert_eq!(state["function"]["codeSha256"], sha);
}

#[tokio::test(flavor = "multi_thread")]
async fn changed_configuration_updates_only_the_configuration() {
    let project = Project::builder("config").deployed("dev").start();
    let aws = &project.aws;
    let before = snapshot(aws, SERVICE, "dev").await;

    let spec = Spec {
        memory: 1024,
        timeout: 20,
        env: vec![("TABLE_NAME", "other"), ("LOG_LEVEL", "debug")],
        ..Spec::default()
    };
    project.write_manifest(&spec);
    let run = project.deploy("dev");
    assert_eq!(run.writes(), vec!["Lambda.UpdateFunctionConfiguration"]);
    let after = snapshot(aws, SERVICE, "dev").await;
    assert_complete(&after, "dev", &spec);
    let mut expected = before.clone();
    let function = expected.function.as_mut().unwrap();
    function.memory = 1024;
    function.timeout = 20;
    function.env = after.function().env.clone();
    assert_eq!(after, expected, "same code (no upload), same ids");
    assert_eq!(
        run.json()["code"]["env"],
        serde_json::json!(["LOG_LEVEL", "TABLE_NAME"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_route_added_or_removed_changes_only_that_route() {
    let project = Project::builder("routes").deployed("dev").start();
    let aws = &project.aws;
    let version = publish(aws, "dev").await;
    let before = snapshot(aws, SERVICE, "dev").await;

    let added = Spec {
        routes: vec!["message", "chat"],
        ..Spec::default()
    };
    project.write_manifest(&added);
    let run = project.deploy("dev");
    let redeployed = ["ApiGatewayV2.CreateDeployment", "ApiGatewayV2.UpdateStage"];
    assert_eq!(
        run.writes(),
        [&["ApiGatewayV2.CreateRoute"][..], &redeployed].concat()
    );
    let after_add = snapshot(aws, SERVICE, "dev").await;
    assert_complete(&after_add, "dev", &added);
    assert_eq!(after_add.api().deployments.len(), 2, "a new deployment");
    let mut expected = before.clone();
    expected.apis[0]
        .routes
        .insert("chat".into(), after_add.api().routes["chat"].clone());
    expected.apis[0].deployments = after_add.api().deployments.clone();
    expected.apis[0].stages.get_mut("dev").unwrap().1 = after_add.api().stages["dev"].1.clone();
    assert_ne!(
        after_add.api().stages["dev"].1,
        before.api().stages["dev"].1,
        "the stage serves the new deployment"
    );
    assert_eq!(
        after_add, expected,
        "the other routes keep their ids; nothing else changed"
    );

    let removed = Spec {
        routes: vec!["chat"],
        ..Spec::default()
    };
    project.write_manifest(&removed);
    let run = project.deploy("dev");
    assert_eq!(
        run.writes(),
        [&["ApiGatewayV2.DeleteRoute"][..], &redeployed].concat()
    );
    let after_remove = snapshot(aws, SERVICE, "dev").await;
    assert_complete(&after_remove, "dev", &removed);
    let mut expected = after_add.clone();
    expected.apis[0].routes.remove("message");
    expected.apis[0].deployments = after_remove.api().deployments.clone();
    expected.apis[0].stages.get_mut("dev").unwrap().1 = after_remove.api().stages["dev"].1.clone();
    assert_eq!(after_remove, expected);
    assert_eq!(
        publish(aws, "dev").await,
        version,
        "the function was not touched"
    );
}

/// A stage made with auto-deploy (by an earlier version, or by hand) is switched to explicit
/// deployments, and a stage whose deployment is gone is deployed again.
#[tokio::test(flavor = "multi_thread")]
async fn an_auto_deploy_stage_is_converged_to_explicit_deployments() {
    let project = Project::builder("autodeploy").deployed("dev").start();
    let aws = &project.aws;
    let api = snapshot(aws, SERVICE, "dev").await.api().id.clone();
    aws.apigateway
        .update_stage()
        .api_id(&api)
        .stage_name("dev")
        .auto_deploy(true)
        .send()
        .await
        .unwrap();

    let run = project.deploy("dev");
    assert_eq!(run.writes(), vec!["ApiGatewayV2.UpdateStage"]);
    let after = snapshot(aws, SERVICE, "dev").await;
    assert_complete(&after, "dev", &Spec::default());
    assert_eq!(
        after.api().deployments.len(),
        1,
        "the deployment still served"
    );
    assert_eq!(project.deploy("dev").writes(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_and_prod_side_by_side_and_removing_prod_leaves_dev_whole() {
    let project = Project::builder("stages")
        .deployed("dev")
        .deployed("prod")
        .start();
    let aws = &project.aws;
    let dev = snapshot(aws, SERVICE, "dev").await;
    let prod = snapshot(aws, SERVICE, "prod").await;
    assert_complete(&dev, "dev", &Spec::default());
    assert_complete(&prod, "prod", &Spec::default());
    assert_ne!(dev.api().id, prod.api().id);
    assert_eq!(inventory(aws).await.apis, 2);

    project.remove("prod");
    assert!(snapshot(aws, SERVICE, "prod").await.is_empty());
    assert_eq!(snapshot(aws, SERVICE, "dev").await, dev, "dev is untouched");
    assert_eq!(
        inventory(aws).await,
        Inventory {
            apis: 1,
            functions: vec!["echo-dev".into()],
            roles: vec![format!("echo-dev-{REGION}")]
        }
    );
    assert!(project.state_file("dev").is_file());
    assert!(!project.state_file("prod").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_leaves_nothing_and_a_second_remove_succeeds() {
    let project = Project::builder("remove").deployed("dev").start();
    let aws = &project.aws;
    // Deploy created the function's log group; another service's stays.
    aws.logs
        .create_log_group()
        .log_group_name("/aws/lambda/other-dev")
        .send()
        .await
        .unwrap();
    assert!(snapshot(aws, SERVICE, "dev").await.log_group.is_some());

    let run = project.remove("dev");
    assert!(run.stdout.contains("Removed"), "{}", run.stdout);
    let left = snapshot(aws, SERVICE, "dev").await;
    assert!(left.is_empty(), "nothing of the stage is left: {left:#?}");
    assert_eq!(
        inventory(aws).await,
        Inventory {
            apis: 0,
            functions: vec![],
            roles: vec![]
        }
    );
    let groups = aws.logs.describe_log_groups().send().await.unwrap();
    let names: Vec<_> = groups
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name())
        .collect();
    assert_eq!(names, vec!["/aws/lambda/other-dev"]);
    assert!(!project.state_file("dev").exists());

    let again = project.remove("dev");
    assert!(
        again.stdout.contains("Nothing to remove"),
        "{}",
        again.stdout
    );
    assert_eq!(again.writes(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn without_state_deploy_adopts_what_exists_and_remove_finds_it_by_tags() {
    let project = Project::builder("adopt").deployed("dev").start();
    let aws = &project.aws;
    let before = snapshot(aws, SERVICE, "dev").await;

    std::fs::remove_file(project.state_file("dev")).unwrap();
    let run = project.deploy("dev");
    assert_eq!(run.writes(), Vec::<String>::new(), "adopted, not recreated");
    assert_eq!(snapshot(aws, SERVICE, "dev").await, before);
    assert_eq!(inventory(aws).await.apis, 1);
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(project.state_file("dev")).unwrap()).unwrap();
    assert_eq!(
        state["api"]["id"],
        before.api().id,
        "the state file is rebuilt"
    );

    std::fs::remove_dir_all(project.dir.join(".socket")).unwrap();
    project.remove("dev");
    assert!(snapshot(aws, SERVICE, "dev").await.is_empty());
    assert_eq!(
        inventory(aws).await,
        Inventory {
            apis: 0,
            functions: vec![],
            roles: vec![]
        }
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_deleted_behind_our_back_is_recreated_and_everything_rescoped() {
    let project = Project::builder("vanished").deployed("dev").start();
    let aws = &project.aws;
    let old = snapshot(aws, SERVICE, "dev").await;
    aws.apigateway
        .delete_api()
        .api_id(&old.api().id)
        .send()
        .await
        .unwrap();

    project.deploy("dev");
    let new = snapshot(aws, SERVICE, "dev").await;
    assert_complete(&new, "dev", &Spec::default());
    assert_ne!(new.api().id, old.api().id);
    assert_eq!(
        new.function().code_location,
        old.function().code_location,
        "the function was not re-uploaded"
    );
    assert_eq!(inventory(aws).await.apis, 1);
}

/// Kills a deploy right after a given step finished, for each of several steps (each on its
/// own stage); the next deploy must finish the job with exactly one of everything.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_deploy_is_finished_by_the_next_one() {
    let project = Project::builder("killed").start();
    let aws = &project.aws;
    let kill_points = [
        ("k1", "✓ Create IAM role"),
        ("k2", "✓ Create WebSocket API"),
        ("k3", "✓ Create function"),
        ("k4", "✓ Add route $connect"),
    ];
    for (stage, marker) in kill_points {
        let mut child = project.spawn_deploy(stage);
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = Vec::new();
        for line in stderr.lines() {
            let line = line.unwrap();
            let reached = line.contains(marker);
            seen.push(line);
            if reached {
                child.kill().unwrap();
                break;
            }
        }
        let status = child.wait().unwrap();
        assert_eq!(
            status.signal(),
            Some(9),
            "killed midway at {marker:?}; output:\n{}",
            seen.join("\n")
        );
        let partial = snapshot(aws, SERVICE, stage).await;
        assert!(
            partial.role.is_some(),
            "the deploy got as far as {marker:?}"
        );

        project.deploy(stage);
        assert_complete(
            &snapshot(aws, SERVICE, stage).await,
            stage,
            &Spec::default(),
        );
    }
    let inv = inventory(aws).await;
    assert_eq!(inv.apis, 4, "one API per stage, no duplicate: {inv:?}");
    assert_eq!(
        inv.functions,
        vec!["echo-k1", "echo-k2", "echo-k3", "echo-k4"]
    );
    assert_eq!(inv.roles.len(), 4);

    for (stage, _) in kill_points {
        project.remove(stage);
    }
    assert_eq!(
        inventory(aws).await,
        Inventory {
            apis: 0,
            functions: vec![],
            roles: vec![]
        }
    );
}

/// A second deploy of a stage while the first runs is refused with a message naming the first.
#[tokio::test(flavor = "multi_thread")]
async fn two_deploys_of_one_stage_at_once_never_duplicate() {
    let project = Project::builder("concurrent").start();
    let aws = &project.aws;

    let mut first = project.spawn_deploy("dev");
    let mut stderr = BufReader::new(first.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("Reading") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the first deploy started reading"
        );
    }
    // Freeze the first deploy while it holds the stage.
    let pid = first.id().to_string();
    assert!(Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap()
        .success());
    let second = project
        .run(&[
            "deploy",
            "--stage",
            "dev",
            "--package",
            project.zip().to_str().unwrap(),
        ])
        .failure();
    assert!(
        second.stderr.contains(&format!(
            "another `socket deploy` of stage `dev` is running (pid {pid}"
        )),
        "{}",
        second.stderr
    );
    let removing = project.run(&["remove", "--stage", "dev"]).failure();
    assert!(
        removing.stderr.contains("is running"),
        "{}",
        removing.stderr
    );
    assert!(Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .unwrap()
        .success());
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    assert!(first.wait().unwrap().success());

    assert_complete(
        &snapshot(aws, SERVICE, "dev").await,
        "dev",
        &Spec::default(),
    );
    assert_eq!(inventory(aws).await.apis, 1);
    // Once the first is done, the stage is free again.
    assert_eq!(project.deploy("dev").writes(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_endpoint_and_missing_credentials_fail_clearly() {
    let mut project = Project::builder("offline").start();

    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    project.env.retain(|(k, _)| k != "AWS_ENDPOINT_URL");
    project.env.push((
        "AWS_ENDPOINT_URL".into(),
        format!("http://127.0.0.1:{closed}"),
    ));
    let zip = project.zip();
    let down = project
        .run(&["deploy", "--package", zip.to_str().unwrap()])
        .failure();
    assert!(
        down.stderr
            .contains(&format!("could not reach http://127.0.0.1:{closed}")),
        "{}",
        down.stderr
    );
    assert!(down.stderr.contains("help:"), "{}", down.stderr);
    assert!(!project.state_file("dev").exists(), "nothing was recorded");
    let info = project.run(&["info"]).failure();
    assert!(info.stderr.contains("could not reach"), "{}", info.stderr);

    project.env = project
        .moto
        .env()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("AWS_ACCESS") && !k.starts_with("AWS_SECRET"))
        .collect();
    let none = project
        .run(&["deploy", "--package", zip.to_str().unwrap()])
        .failure();
    assert!(
        none.stderr.contains("no AWS credentials"),
        "{}",
        none.stderr
    );
    assert!(
        none.stderr.contains(".env"),
        "says where to put them: {}",
        none.stderr
    );
    assert_eq!(inventory(&project.aws).await.apis, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_credentials_fail_clearly_and_leave_state_correct() {
    let project = Project::builder("denied").start();
    let aws = &project.aws;
    // From here on moto checks every request's signature against the keys it knows: none.
    project.moto.enforce_auth();

    let zip = project.zip();
    let wrong = project
        .run(&["deploy", "--package", zip.to_str().unwrap()])
        .failure();
    assert!(
        wrong.stderr.contains("AWS rejected the credentials"),
        "{}",
        wrong.stderr
    );
    assert!(
        wrong.stderr.contains("AWS_SECRET_ACCESS_KEY"),
        "says what to check: {}",
        wrong.stderr
    );
    assert!(!project.state_file("dev").exists(), "nothing was recorded");
    let removing = project.run(&["remove"]).failure();
    assert!(
        removing.stderr.contains("AWS rejected the credentials"),
        "{}",
        removing.stderr
    );

    project.moto.relax_auth();
    assert_eq!(
        inventory(aws).await,
        Inventory {
            apis: 0,
            functions: vec![],
            roles: vec![]
        }
    );
}

/// `(resource, action, fields)` of each change in a `--dry-run --json` plan.
fn planned(run: &socket_tests::socket_run::Run) -> Vec<(String, String, Vec<String>)> {
    run.json()["changes"]
        .as_array()
        .expect("changes is a list")
        .iter()
        .map(|c| {
            let fields = c["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_owned())
                .collect();
            (
                c["resource"].as_str().unwrap().to_owned(),
                c["action"].as_str().unwrap().to_owned(),
                fields,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_on_a_fresh_stage_lists_the_creates_and_makes_nothing() {
    let project = Project::builder("dryfresh").start();
    let aws = &project.aws;

    let run = project.dry_run("dev");
    assert_eq!(
        run.writes(),
        Vec::<String>::new(),
        "no write call; calls: {:?}",
        run.calls()
    );
    let changes = planned(&run);
    let creates: Vec<&str> = changes
        .iter()
        .map(|(resource, action, fields)| {
            assert_eq!(action, "create", "{resource}");
            assert!(fields.is_empty());
            resource.as_str()
        })
        .collect();
    assert_eq!(
        creates,
        vec![
            "IAM role",
            "basic execution policy",
            "WebSocket API",
            "ManageConnections policy",
            "log group",
            "function",
            "integration",
            "route $connect",
            "route $default",
            "route $disconnect",
            "route message",
            "stage",
            "deployment",
            "invoke permission",
        ]
    );
    assert!(snapshot(aws, SERVICE, "dev").await.is_empty());
    assert_eq!(
        inventory(aws).await,
        Inventory {
            apis: 0,
            functions: vec![],
            roles: vec![]
        }
    );
    assert!(!project.state_file("dev").exists(), "nothing was recorded");

    // `socket plan` is the same, for a person.
    let zip = project.zip();
    let human = project
        .run(&["plan", "--package", zip.to_str().unwrap()])
        .success();
    assert!(
        human.stdout.contains("  + create function\n"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("14 changes"), "{}", human.stdout);
    assert_eq!(inventory(aws).await.apis, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_names_exactly_what_a_changed_manifest_changes() {
    let project = Project::builder("dryplan").deployed("dev").start();
    let aws = &project.aws;
    let before = snapshot(aws, SERVICE, "dev").await;

    let unchanged = project.dry_run("dev");
    assert_eq!(planned(&unchanged), vec![]);
    assert_eq!(unchanged.writes(), Vec::<String>::new());

    project.write_manifest(&Spec {
        memory: 1024,
        routes: vec!["message", "chat"],
        env: vec![("TABLE_NAME", "other")],
        ..Spec::default()
    });
    project.write_code("v2");
    let run = project.dry_run("dev");
    assert_eq!(
        run.writes(),
        Vec::<String>::new(),
        "no write call; calls: {:?}",
        run.calls()
    );
    let fields = |f: &[&str]| f.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        planned(&run),
        vec![
            (
                "function".into(),
                "update".into(),
                fields(&["memory", "env"])
            ),
            ("function code".into(), "update".into(), fields(&["code"])),
            ("route chat".into(), "create".into(), vec![]),
            ("deployment".into(), "create".into(), vec![]),
        ]
    );
    assert_eq!(
        snapshot(aws, SERVICE, "dev").await,
        before,
        "nothing changed"
    );

    let human = project
        .run(&[
            "deploy",
            "--dry-run",
            "--package",
            project.zip().to_str().unwrap(),
        ])
        .success();
    assert!(
        human.stdout.contains("  ~ update function (memory, env)\n"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("  + create route chat\n"),
        "{}",
        human.stdout
    );

    // The deploy then makes exactly the planned changes.
    let applied = project.deploy("dev");
    assert_eq!(
        applied.writes(),
        vec![
            "Lambda.UpdateFunctionConfiguration",
            "Lambda.UpdateFunctionCode",
            "ApiGatewayV2.CreateRoute",
            "ApiGatewayV2.CreateDeployment",
            "ApiGatewayV2.UpdateStage"
        ]
    );
    assert_eq!(planned(&project.dry_run("dev")), vec![]);
}

// ---------------------------------------------------------------------------------------------
// The connection registry (`connections:`).

fn with_connections() -> Spec {
    Spec {
        connections: true,
        ..Spec::default()
    }
}

const TABLE: &str = "echo-dev-connections";

async fn table_names(aws: &Aws) -> Vec<String> {
    let out = aws.dynamodb.list_tables().send().await.unwrap();
    out.table_names().to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_deploy_a_registry_table_only_the_function_may_use() {
    let spec = with_connections();
    let project = Project::builder("registry").spec(spec.clone()).start();
    let aws = &project.aws;

    let run = project.deploy("dev");
    let stage = snapshot(aws, SERVICE, "dev").await;
    assert_complete(&stage, "dev", &spec);
    assert_eq!(table_names(aws).await, vec![TABLE]);
    let outputs = run.json();
    assert_eq!(outputs["registry"]["table"], TABLE);
    assert_eq!(
        outputs["code"]["env"],
        serde_json::json!(["TABLE_NAME"]),
        "the registry's variables are not the user's"
    );
    let changes = outputs["changes"].as_array().unwrap();
    for line in [
        "create connection registry table",
        "enable TTL on the registry table",
        "allow the function to use the registry table",
    ] {
        assert!(changes.contains(&Value::from(line)), "{changes:?}");
    }
    let state = std::fs::read_to_string(project.state_file("dev")).unwrap();
    assert!(!state.contains("SOCKET_REGISTRY"), "{state}");

    let info = project
        .run(&["info", "--stage", "dev", "--json"])
        .success()
        .json();
    assert_eq!(info["registry"], outputs["registry"]);
    assert_eq!(info["code"]["env"], outputs["code"]["env"]);
    let human = project.run(&["info", "--stage", "dev"]).success();
    assert!(
        human.stdout.contains(&format!("connections:   {TABLE}")),
        "{}",
        human.stdout
    );

    let again = project.deploy("dev");
    assert_eq!(
        again.writes(),
        Vec::<String>::new(),
        "no write call at all; calls: {:?}",
        again.calls()
    );
    assert_eq!(snapshot(aws, SERVICE, "dev").await, stage);

    let removed = project.remove("dev");
    assert!(
        removed.stdout.contains(&format!("DynamoDB table {TABLE}")),
        "{}",
        removed.stdout
    );
    let left = snapshot(aws, SERVICE, "dev").await;
    assert!(left.is_empty(), "nothing of the stage is left: {left:#?}");
    assert_eq!(table_names(aws).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_table_deleted_by_hand_is_recreated() {
    let spec = with_connections();
    let project = Project::builder("registry-vanished")
        .spec(spec.clone())
        .deployed("dev")
        .start();
    let aws = &project.aws;
    let before = snapshot(aws, SERVICE, "dev").await;
    aws.dynamodb
        .delete_table()
        .table_name(TABLE)
        .send()
        .await
        .unwrap();

    let run = project.deploy("dev");
    assert_eq!(
        run.writes(),
        vec!["DynamoDB.CreateTable", "DynamoDB.UpdateTimeToLive"]
    );
    let after = snapshot(aws, SERVICE, "dev").await;
    assert_complete(&after, "dev", &spec);
    assert_eq!(after, before, "the same table again; nothing else touched");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_turned_on_then_off_add_and_remove_only_the_registry() {
    let project = Project::builder("registry-toggle").deployed("dev").start();
    let aws = &project.aws;
    let before = snapshot(aws, SERVICE, "dev").await;

    project.write_manifest(&with_connections());
    let on = project.deploy("dev");
    assert_eq!(
        on.writes(),
        vec![
            "DynamoDB.CreateTable",
            "DynamoDB.UpdateTimeToLive",
            "IAM.PutRolePolicy",
            "Lambda.UpdateFunctionConfiguration",
        ]
    );
    let with = snapshot(aws, SERVICE, "dev").await;
    assert_complete(&with, "dev", &with_connections());
    assert_eq!(with.api(), before.api(), "the API is untouched");

    project.write_manifest(&Spec::default());
    let off = project.deploy("dev");
    assert_eq!(
        off.writes(),
        vec![
            "Lambda.UpdateFunctionConfiguration",
            "IAM.DeleteRolePolicy",
            "DynamoDB.DeleteTable",
        ]
    );
    assert_eq!(off.json().get("registry"), None);
    let after = snapshot(aws, SERVICE, "dev").await;
    assert_complete(&after, "dev", &Spec::default());
    assert_eq!(after, before, "back to the stage without the registry");
    assert_eq!(table_names(aws).await, Vec::<String>::new());
}

/// What `socket send` resolves for a deployed stage (its API, endpoints and keys), used as the
/// command uses it: a client that reads the stage's registry table in moto.
#[tokio::test(flavor = "multi_thread")]
async fn the_send_target_reaches_the_deployed_stage_and_its_registry() {
    let project = Project::builder("send").spec(with_connections()).start();
    let aws = &project.aws;
    // The stage's env file holds the keys and the endpoint, as a project's `.env` would.
    let dotenv: String = project
        .env
        .iter()
        .filter(|(k, _)| {
            k.starts_with("AWS_ACCESS") || k.starts_with("AWS_SECRET") || k == "AWS_ENDPOINT_URL"
        })
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    std::fs::write(project.dir.join(".env"), dotenv).unwrap();
    let manifest = socket_manifest::Manifest::load(
        &project.dir.join("serverless.yml"),
        &socket_manifest::Overrides::default(),
    )
    .unwrap();

    let undeployed = socket_deploy::send_target::resolve(&manifest)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        undeployed.contains("stage `dev` of `echo` is not deployed")
            && undeployed.contains("socket deploy"),
        "{undeployed}"
    );

    project.deploy("dev");
    let api_id = snapshot(aws, SERVICE, "dev").await.api().id.clone();
    let target = socket_deploy::send_target::resolve(&manifest)
        .await
        .unwrap();
    assert_eq!(target.api_id, api_id);
    assert_eq!(
        target.management_endpoint,
        format!("https://{api_id}.execute-api.{REGION}.amazonaws.com/dev")
    );
    assert_eq!(target.dynamodb_endpoint, Some(project.moto.endpoint()));
    assert_eq!(
        target.credentials,
        socket_client::Credentials::new("testing", "testing")
    );

    // A member of `lobby`, as the runtime records one.
    let item = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.to_owned());
    aws.dynamodb
        .put_item()
        .table_name(TABLE)
        .item("pk", item("chan#lobby"))
        .item("sk", item("conn-1"))
        .send()
        .await
        .unwrap();
    let client = socket_client::Client::new(socket_client::ClientConfig {
        api_id: target.api_id,
        region: REGION.into(),
        stage: "dev".into(),
        table: Some(TABLE.into()),
        management_endpoint: Some(target.management_endpoint),
        registry_endpoint: target.dynamodb_endpoint,
        credentials: Some(target.credentials),
    })
    .unwrap();
    assert_eq!(client.members("lobby").await.unwrap(), vec!["conn-1"]);
    assert_eq!(client.members("empty").await.unwrap(), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// Permissions, enforced by moto.
//
// Once moto's initial unauthenticated calls are used up (`INITIAL_NO_AUTH_ACTION_COUNT`, reset
// here through `/moto-api/reset-auth`), every request of every service is signed-checked and
// authorized against the caller's IAM policies, as `{signing service}:{Operation}`. What that
// proves, and what it cannot:
// - IAM, Lambda and CloudWatch Logs actions are checked by their real names, so the table's rows
//   for the calls socket makes are proven necessary and sufficient;
// - API Gateway is checked as `apigateway:CreateRoute` etc., where AWS checks HTTP verbs
//   (`apigateway:POST` on the resource): the policy below grants the calls each verb row lists,
//   so the verb rows are proven only through that mapping;
// - actions AWS checks on a call of another name are not checked at all: `iam:PassRole`
//   (CreateFunction, UpdateFunctionConfiguration), `lambda:TagResource` and `iam:TagRole` (tags
//   on create), `lambda:ListTags` (GetFunction's tags);
// - resources are checked only for IAM roles; Lambda, API Gateway and Logs calls are authorized
//   against `*`, so scoping a policy to the stage's ARNs is not proven.

/// The table's policy as moto checks it, without `missing` if given.
fn moto_policy(missing: Option<&str>) -> Value {
    let mut actions = BTreeSet::new();
    for permission in socket_deploy::permissions::PERMISSIONS {
        if permission.action.starts_with("apigateway:") {
            actions.extend(permission.calls.iter().map(|c| c.to_string()));
        } else {
            actions.insert(permission.action.to_owned());
        }
    }
    if let Some(missing) = missing {
        assert!(actions.remove(missing), "{missing} is in the table");
    }
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": "*" }]
    })
}

/// An IAM user holding exactly `policy`, and its access key.
async fn user_with(aws: &Aws, name: &str, policy: &Value) -> (String, String) {
    aws.iam.create_user().user_name(name).send().await.unwrap();
    aws.iam
        .put_user_policy()
        .user_name(name)
        .policy_name("socket-deploy")
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    let key = aws
        .iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    (
        key.access_key_id().to_owned(),
        key.secret_access_key().to_owned(),
    )
}

fn use_key(project: &mut Project, (id, secret): &(String, String)) {
    project
        .env
        .retain(|(k, _)| k != "AWS_ACCESS_KEY_ID" && k != "AWS_SECRET_ACCESS_KEY");
    project.env.push(("AWS_ACCESS_KEY_ID".into(), id.clone()));
    project
        .env
        .push(("AWS_SECRET_ACCESS_KEY".into(), secret.clone()));
}

#[tokio::test(flavor = "multi_thread")]
async fn exactly_the_documented_permissions_deploy_and_remove_and_a_missing_one_is_named() {
    let mut project = Project::builder("permissions").start();
    let everything = user_with(&project.aws, "deployer", &moto_policy(None)).await;
    let missing = "lambda:AddPermission";
    let lacking = user_with(&project.aws, "lacking", &moto_policy(Some(missing))).await;
    project.moto.enforce_auth();

    use_key(&mut project, &lacking);
    let zip = project.zip();
    let denied = project
        .run(&[
            "deploy",
            "--stage",
            "prod",
            "--package",
            zip.to_str().unwrap(),
        ])
        .failure();
    assert!(
        denied.stderr.contains(&format!("lacks `{missing}`")),
        "the help names the missing permission: {}",
        denied.stderr
    );
    assert!(denied.stderr.contains("Permissions"), "{}", denied.stderr);

    use_key(&mut project, &everything);
    let deployed = project.deploy("dev");
    assert!(deployed.json()["url"].is_string());
    // Deploy again: the reads (and the converging prod deploy) need nothing more.
    assert_eq!(project.deploy("dev").writes(), Vec::<String>::new());
    project.deploy("prod");
    project.run(&["info", "--stage", "dev", "--json"]).success();
    project.moto.relax_auth();
    assert_complete(
        &snapshot(&project.aws, SERVICE, "dev").await,
        "dev",
        &Spec::default(),
    );
    project.moto.enforce_auth();
    project.remove("dev");
    project.remove("prod");
    project.moto.relax_auth();
    assert!(snapshot(&project.aws, SERVICE, "dev").await.is_empty());
    assert!(snapshot(&project.aws, SERVICE, "prod").await.is_empty());
}
