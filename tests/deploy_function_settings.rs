//! `socket deploy` / `socket remove` of the function's settings: the manifest's IAM statements
//! (their own inline policy on the role), user tags on every resource, reserved concurrency.
//! The real binary against moto, asserting on what exists afterwards (read with the SDK).

use std::collections::BTreeMap;

use serde_json::{json, Value};
use socket_protocol::percent;
use socket_tests::deploy_project::{Project, Spec, SERVICE};
use socket_tests::moto::{ACCOUNT, REGION};

/// `{service}-{stage}-{region}`.
const ROLE: &str = "echo-dev-us-east-1";
const FUNCTION: &str = "echo-dev";

const FIRST: &str = "    iamRoleStatements:\n      - effect: Allow\n        actions: [s3:GetObject, s3:PutObject]\n        resources:\n          - arn:aws:s3:::uploads/*\n    tags:\n      team: chat\n      env: test\n    reservedConcurrency: 5\n";
const SECOND: &str = "    iamRoleStatements:\n      - effect: Allow\n        actions: [sqs:SendMessage]\n        resources: ['*']\n      - effect: Deny\n        actions: [s3:DeleteObject]\n        resources: [arn:aws:s3:::uploads/*]\n    tags:\n      team: platform\n      owner: ops\n";

/// The role's inline policies by name (IAM returns them URL-encoded).
async fn inline_policies(project: &Project) -> BTreeMap<String, Value> {
    let iam = &project.aws.iam;
    let names = match iam.list_role_policies().role_name(ROLE).send().await {
        Ok(names) => names,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_no_such_entity_exception()) =>
        {
            return BTreeMap::new()
        }
        Err(e) => panic!("ListRolePolicies: {e:?}"),
    };
    let mut out = BTreeMap::new();
    for name in names.policy_names() {
        let doc = iam
            .get_role_policy()
            .role_name(ROLE)
            .policy_name(name)
            .send()
            .await
            .unwrap();
        let decoded = percent::decode(doc.policy_document()).unwrap();
        out.insert(name.clone(), serde_json::from_str(&decoded).unwrap());
    }
    out
}

/// The tags of the function, the API, the role and the log group, in that order.
async fn tags(project: &Project) -> [BTreeMap<String, String>; 4] {
    let aws = &project.aws;
    let to_map = |tags: Option<&std::collections::HashMap<String, String>>| {
        tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    };
    let function = aws
        .lambda
        .get_function()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    let apis = aws.apigateway.get_apis().send().await.unwrap();
    assert_eq!(apis.items().len(), 1);
    let role = aws.iam.get_role().role_name(ROLE).send().await.unwrap();
    let role_tags = role
        .role()
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    let group_arn = format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{FUNCTION}");
    let group = aws
        .logs
        .list_tags_for_resource()
        .resource_arn(group_arn)
        .send()
        .await
        .unwrap();
    [
        to_map(function.tags()),
        to_map(apis.items()[0].tags()),
        role_tags,
        to_map(group.tags()),
    ]
}

fn expected_tags(user: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut tags: BTreeMap<String, String> = user
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tags.insert("socket:service".into(), SERVICE.into());
    tags.insert("socket:stage".into(), "dev".into());
    tags
}

async fn reserved_concurrency(project: &Project) -> Option<i32> {
    project
        .aws
        .lambda
        .get_function_concurrency()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap()
        .reserved_concurrent_executions()
}

fn assert_no_writes(run: &socket_tests::socket_run::Run) {
    assert_eq!(
        run.writes(),
        Vec::<String>::new(),
        "no write call; calls: {:?}",
        run.calls()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn statements_tags_and_concurrency_are_deployed_changed_and_removed() {
    let project = Project::builder("settings").start();
    project.write_manifest_with(&Spec::default(), FIRST);
    let first = project.deploy("dev");
    for write in ["IAM.PutRolePolicy", "Lambda.PutFunctionConcurrency"] {
        assert!(
            first.writes().iter().any(|w| w == write),
            "{:?}",
            first.writes()
        );
    }

    let policies = inline_policies(&project).await;
    assert!(policies.contains_key("socket-statements"), "{policies:?}");
    assert_eq!(
        policies["socket-statements"],
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": ["arn:aws:s3:::uploads/*"],
            }]
        })
    );
    assert!(
        policies.contains_key("socket-manage-connections"),
        "the statements sit beside socket's own policy: {policies:?}"
    );
    let wanted = expected_tags(&[("team", "chat"), ("env", "test")]);
    for (resource, tags) in ["function", "API", "role", "log group"]
        .iter()
        .zip(tags(&project).await)
    {
        assert_eq!(tags, wanted, "tags of the {resource}");
    }
    assert_eq!(reserved_concurrency(&project).await, Some(5));

    assert_no_writes(&project.deploy("dev"));

    // Changed statements and tags, no reserved concurrency: the plan names each change.
    project.write_manifest_with(&Spec::default(), SECOND);
    let plan = project.dry_run("dev");
    assert_no_writes(&plan);
    let changes: Vec<(String, String)> = plan.json()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["resource"].as_str().unwrap().to_owned(),
                c["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(r, a)| (r.to_string(), a.to_string()))
            .collect()
    };
    assert_eq!(
        changes,
        pairs(&[
            ("log group", "update"),
            ("IAM statements policy", "update"),
            ("reserved concurrency", "delete"),
            ("tags of the IAM role", "update"),
            ("tags of the function", "update"),
            ("tags of the API", "update"),
        ])
    );

    project.deploy("dev");
    let policies = inline_policies(&project).await;
    let statements = policies["socket-statements"]["Statement"]
        .as_array()
        .unwrap();
    assert_eq!(statements.len(), 2);
    assert_eq!(statements[1]["Effect"], "Deny");
    let wanted = expected_tags(&[("team", "platform"), ("owner", "ops")]);
    for (resource, tags) in ["function", "API", "role", "log group"]
        .iter()
        .zip(tags(&project).await)
    {
        assert_eq!(tags, wanted, "tags of the {resource}: `env` removed");
    }
    assert_eq!(reserved_concurrency(&project).await, None);
    assert_no_writes(&project.deploy("dev"));

    // No statements: their policy goes, socket's own stays.
    project.write_manifest(&Spec::default());
    let run = project.deploy("dev");
    assert!(
        run.writes().iter().any(|w| w == "IAM.DeleteRolePolicy"),
        "{:?}",
        run.writes()
    );
    let policies = inline_policies(&project).await;
    assert!(!policies.contains_key("socket-statements"), "{policies:?}");
    assert!(policies.contains_key("socket-manage-connections"));

    project.write_manifest_with(&Spec::default(), FIRST);
    project.deploy("dev");
    project.remove("dev");
    assert!(inline_policies(&project).await.is_empty());
    let roles = project.aws.iam.list_roles().send().await.unwrap();
    assert!(roles.roles().is_empty(), "the role is gone");
    let functions = project.aws.lambda.list_functions().send().await.unwrap();
    assert!(functions.functions().is_empty(), "the function is gone");
    let apis = project.aws.apigateway.get_apis().send().await.unwrap();
    assert!(apis.items().is_empty(), "the API is gone");
}

#[tokio::test(flavor = "multi_thread")]
async fn socket_tag_keys_and_unknown_statement_keys_are_refused_before_any_call() {
    let project = Project::builder("settingsbad").start();
    project.write_manifest_with(&Spec::default(), "    tags:\n      socket:stage: prod\n");
    let refused = project.run(&["deploy", "--stage", "dev", "-v"]).failure();
    assert!(
        refused.stderr.contains("socket's own"),
        "{}",
        refused.stderr
    );
    assert!(refused.calls().is_empty(), "{:?}", refused.calls());

    project.write_manifest_with(&Spec::default(), "    iamRoleStatements:\n      - effect: Allow\n        actions: ['*']\n        resource: ['*']\n",
    );
    let refused = project.run(&["deploy", "--stage", "dev", "-v"]).failure();
    assert!(
        refused.stderr.contains("unknown key `resource`"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("serverless.yml:"),
        "{}",
        refused.stderr
    );
    assert!(refused.calls().is_empty(), "{:?}", refused.calls());
}
