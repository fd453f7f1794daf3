//! `socket deploy` / `socket remove` of a `$connect` authorizer and a custom domain: the real
//! binary against moto, asserting on what exists afterwards (read with the SDK).
//!
//! moto does not compute a domain name's regional target (`ApiGatewayDomainName`,
//! `HostedZoneId`), nor implement `GetAuthorizers`, `UpdateApiMapping` or `UpdateDomainName`:
//! deploy finds the authorizer through the `$connect` route and changes a base path by
//! replacing the mapping, so all of this runs here; the DNS target's rendering is covered by
//! the outputs' unit test.

use serde_json::{json, Value};
use socket_tests::deploy_project::{Project, Spec, SERVICE};
use socket_tests::moto::{ACCOUNT, REGION};

const CERTIFICATE: &str = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d";

const AUTHORIZER: &str = "    authorizer:\n      identitySources:\n        - route.request.querystring.token\n        - route.request.header.Authorization\n";

fn domain(base_path: &str) -> String {
    format!(
        "    domain:\n      name: chat.example.com\n      certificate: {CERTIFICATE}\n      basePath: {base_path}\n"
    )
}

async fn api_id(project: &Project) -> Option<String> {
    let apis = project.aws.apigateway.get_apis().send().await.unwrap();
    apis.items()
        .first()
        .and_then(|a| a.api_id())
        .map(str::to_owned)
}

async fn connect_route(project: &Project, api: &str) -> aws_sdk_apigatewayv2::types::Route {
    let routes = project
        .aws
        .apigateway
        .get_routes()
        .api_id(api)
        .send()
        .await
        .unwrap();
    routes
        .items()
        .iter()
        .find(|r| r.route_key() == Some("$connect"))
        .cloned()
        .expect("$connect exists")
}

/// The function's policy statements by Sid.
async fn statements(project: &Project) -> Vec<Value> {
    let Ok(policy) = project
        .aws
        .lambda
        .get_policy()
        .function_name(format!("{SERVICE}-dev"))
        .send()
        .await
    else {
        return Vec::new();
    };
    let policy: Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    policy["Statement"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_authorizer_on_connect_with_its_permission_converges_and_is_removed() {
    let project = Project::builder("authorizer").start();
    project.write_manifest_with(&Spec::default(), AUTHORIZER);
    let first = project.deploy("dev");
    assert!(
        first
            .writes()
            .iter()
            .any(|w| w.ends_with("CreateAuthorizer")),
        "{:?}",
        first.calls()
    );

    let api = api_id(&project).await.expect("the API exists");
    let connect = connect_route(&project, &api).await;
    assert_eq!(
        connect.authorization_type().map(|t| t.as_str()),
        Some("CUSTOM")
    );
    let authorizer_id = connect
        .authorizer_id()
        .expect("$connect names its authorizer");
    let authorizer = project
        .aws
        .apigateway
        .get_authorizer()
        .api_id(&api)
        .authorizer_id(authorizer_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        authorizer.authorizer_type().map(|t| t.as_str()),
        Some("REQUEST")
    );
    assert_eq!(
        authorizer.identity_source(),
        [
            "route.request.querystring.token",
            "route.request.header.Authorization"
        ]
    );
    let function_arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{SERVICE}-dev");
    assert_eq!(
        authorizer.authorizer_uri(),
        Some(format!("arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations").as_str())
    );
    let source =
        format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{api}/authorizers/{authorizer_id}");
    let permission = statements(&project)
        .await
        .into_iter()
        .find(|s| s["Sid"] == "socket-apigateway-authorizer")
        .expect("the authorizer may invoke the function");
    assert_eq!(
        permission["Condition"]["ArnLike"]["AWS:SourceArn"],
        json!(source)
    );
    assert_eq!(permission["Action"], "lambda:InvokeFunction");

    let again = project.deploy("dev");
    assert_eq!(again.writes(), Vec::<String>::new(), "{:?}", again.calls());

    // Taken out of the manifest: detached, deleted, its permission removed.
    project.write_manifest(&Spec::default());
    let without = project.deploy("dev");
    assert_eq!(
        without.writes(),
        [
            "ApiGatewayV2.UpdateRoute",
            "ApiGatewayV2.DeleteAuthorizer",
            "Lambda.RemovePermission"
        ],
        "{:?}",
        without.calls()
    );
    let connect = connect_route(&project, &api).await;
    assert_ne!(
        connect.authorization_type().map(|t| t.as_str()),
        Some("CUSTOM")
    );
    assert!(project
        .aws
        .apigateway
        .get_authorizer()
        .api_id(&api)
        .authorizer_id(authorizer_id)
        .send()
        .await
        .is_err());
    assert!(!statements(&project)
        .await
        .iter()
        .any(|s| s["Sid"] == "socket-apigateway-authorizer"));

    project.write_manifest_with(&Spec::default(), AUTHORIZER);
    project.deploy("dev");
    project.remove("dev");
    assert_eq!(
        api_id(&project).await,
        None,
        "the API went with its authorizer"
    );
    assert!(
        statements(&project).await.is_empty(),
        "the function is gone"
    );
}

async fn domain_names(project: &Project) -> Vec<aws_sdk_apigatewayv2::types::DomainName> {
    let out = project
        .aws
        .apigateway
        .get_domain_names()
        .send()
        .await
        .unwrap();
    out.items().to_vec()
}

async fn mappings(project: &Project, domain: &str) -> Vec<(String, String, String)> {
    let out = project
        .aws
        .apigateway
        .get_api_mappings()
        .domain_name(domain)
        .send()
        .await
        .unwrap();
    out.items()
        .iter()
        .map(|m| {
            (
                m.api_id().unwrap_or_default().to_owned(),
                m.stage().unwrap_or_default().to_owned(),
                m.api_mapping_key().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_custom_domain_is_created_mapped_remapped_and_removed() {
    let project = Project::builder("domain").start();
    project.write_manifest_with(&Spec::default(), &domain("v1"));
    let first = project.deploy("dev");
    let api = api_id(&project).await.expect("the API exists");

    let domains = domain_names(&project).await;
    assert_eq!(domains.len(), 1);
    let made = &domains[0];
    assert_eq!(made.domain_name(), Some("chat.example.com"));
    let config = &made.domain_name_configurations()[0];
    assert_eq!(config.certificate_arn(), Some(CERTIFICATE));
    assert_eq!(config.endpoint_type().map(|t| t.as_str()), Some("REGIONAL"));
    assert_eq!(
        config.security_policy().map(|p| p.as_str()),
        Some("TLS_1_2")
    );
    assert_eq!(
        made.tags().unwrap().get("socket:stage").map(String::as_str),
        Some("dev")
    );
    assert_eq!(
        mappings(&project, "chat.example.com").await,
        [(api.clone(), "dev".to_string(), "v1".to_string())]
    );

    let outputs = first.json();
    assert_eq!(
        outputs["url"],
        json!(format!(
            "wss://{api}.execute-api.{REGION}.amazonaws.com/dev"
        ))
    );
    assert_eq!(outputs["domain"]["url"], "wss://chat.example.com/v1");
    assert!(outputs["domain"].get("dnsTarget").is_some(), "{outputs}");
    assert!(outputs["domain"].get("hostedZoneId").is_some(), "{outputs}");

    // Sends go to the API's own endpoint, never through the custom domain.
    let function = project
        .aws
        .lambda
        .get_function_configuration()
        .function_name(format!("{SERVICE}-dev"))
        .send()
        .await
        .unwrap();
    let env = function.environment().unwrap().variables().unwrap();
    assert_eq!(
        env.get("SOCKET_MANAGEMENT_ENDPOINT").map(String::as_str),
        Some(format!("https://{api}.execute-api.{REGION}.amazonaws.com/dev").as_str())
    );
    assert!(!outputs["code"]["env"]
        .as_array()
        .unwrap()
        .contains(&json!("SOCKET_MANAGEMENT_ENDPOINT")));

    let info = project.run(&["info", "--stage", "dev", "--json"]).success();
    assert_eq!(info.json()["domain"]["url"], "wss://chat.example.com/v1");

    let again = project.deploy("dev");
    assert_eq!(again.writes(), Vec::<String>::new(), "{:?}", again.calls());

    project.write_manifest_with(&Spec::default(), &domain("v2"));
    project.deploy("dev");
    assert_eq!(
        mappings(&project, "chat.example.com").await,
        [(api.clone(), "dev".to_string(), "v2".to_string())]
    );
    let settled = project.deploy("dev");
    assert_eq!(
        settled.writes(),
        Vec::<String>::new(),
        "{:?}",
        settled.calls()
    );

    // Out of the manifest: mapping and domain name deleted.
    project.write_manifest(&Spec::default());
    project.deploy("dev");
    assert!(domain_names(&project).await.is_empty());

    project.write_manifest_with(&Spec::default(), &domain(""));
    project.deploy("dev");
    assert_eq!(
        mappings(&project, "chat.example.com").await,
        [(api.clone(), "dev".to_string(), String::new())]
    );
    let removed = project.remove("dev");
    assert!(
        domain_names(&project).await.is_empty(),
        "{}",
        removed.stderr
    );
    assert_eq!(api_id(&project).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_domain_mapped_to_another_api_is_refused_before_any_write() {
    let project = Project::builder("taken").start();
    let gateway = &project.aws.apigateway;
    let other = gateway
        .create_api()
        .name("someone-else")
        .protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Websocket)
        .route_selection_expression("$request.body.action")
        .send()
        .await
        .unwrap();
    let other = other.api_id().unwrap().to_owned();
    gateway
        .create_stage()
        .api_id(&other)
        .stage_name("live")
        .send()
        .await
        .unwrap();
    gateway
        .create_domain_name()
        .domain_name("chat.example.com")
        .domain_name_configurations(
            aws_sdk_apigatewayv2::types::DomainNameConfiguration::builder()
                .certificate_arn(CERTIFICATE)
                .build(),
        )
        .send()
        .await
        .unwrap();
    gateway
        .create_api_mapping()
        .domain_name("chat.example.com")
        .api_id(&other)
        .stage("live")
        .send()
        .await
        .unwrap();

    project.write_manifest_with(&Spec::default(), &domain("v1"));
    let zip = project.zip();
    let refused = project
        .run(&[
            "deploy",
            "--stage",
            "dev",
            "--package",
            zip.to_str().unwrap(),
            "-v",
        ])
        .failure();
    assert!(
        refused
            .stderr
            .contains("domain `chat.example.com` is already mapped to another API")
            && refused.stderr.contains(&other),
        "{}",
        refused.stderr
    );
    assert_eq!(
        refused.writes(),
        Vec::<String>::new(),
        "{:?}",
        refused.calls()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_of_another_region_is_refused_at_its_line_before_any_call() {
    let project = Project::builder("cert-region").start();
    let other = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d";
    project.write_manifest_with(
        &Spec::default(),
        &format!("    domain:\n      name: chat.example.com\n      certificate: {other}\n"),
    );
    let lines = std::fs::read_to_string(project.dir.join("serverless.yml")).unwrap();
    let line = lines.lines().position(|l| l.contains(other)).unwrap() + 1;
    let zip = project.zip();
    let refused = project
        .run(&[
            "deploy",
            "--stage",
            "dev",
            "--package",
            zip.to_str().unwrap(),
            "-v",
        ])
        .failure();
    // The report wraps long lines: compare words.
    let words = refused
        .stderr
        .replace('|', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        words.contains("the certificate is in eu-west-1, but the stage deploys to us-east-1"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains(&format!("serverless.yml:{line}:")),
        "names line {line}: {}",
        refused.stderr
    );
    assert!(refused.calls().is_empty(), "{:?}", refused.calls());
}
