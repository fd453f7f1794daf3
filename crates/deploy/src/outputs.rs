//! What `socket deploy` and `socket info` print: the URL and what serves it, for a person or
//! (`--json`) as one JSON object for scripts. Environment variable names only, never values.

use std::io::Write;

use serde::Serialize;

use socket_progress::{format_duration, Reporter};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    pub service: String,
    pub url: String,
    /// Where to send `@connections` requests (`https://…/{stage}`).
    pub management_endpoint: String,
    pub stage: String,
    pub region: String,
    pub api_id: String,
    pub function_name: String,
    pub routes: Vec<String>,
    pub code: CodeOutputs,
    /// The connection registry, when `connections:` is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryOutputs>,
    /// The custom domain, when the manifest has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainOutputs>,
    /// What this deploy changed (absent for `info`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CodeOutputs {
    pub runtime: String,
    pub architecture: String,
    pub memory: u32,
    pub timeout: u32,
    /// Names only.
    pub env: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistryOutputs {
    /// The DynamoDB table holding connections and channel memberships.
    pub table: String,
}

/// A custom domain: its URL, and the record DNS needs for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainOutputs {
    /// `wss://{domain}[/{basePath}]`.
    pub url: String,
    pub name: String,
    pub base_path: String,
    /// The regional domain name (`ApiGatewayDomainName`) a CNAME or alias record points at.
    pub dns_target: Option<String>,
    /// The hosted zone of `dns_target`, for a Route 53 alias record.
    pub hosted_zone_id: Option<String>,
}

/// The API's host: from the `ApiEndpoint` AWS reported (`wss://abc.execute-api.….amazonaws.com`),
/// else built with the region's partition DNS suffix.
pub fn api_host(endpoint: &str, api_id: &str, region: &str) -> String {
    let host = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest)
        .trim_end_matches('/');
    if host.is_empty() {
        format!(
            "{api_id}.execute-api.{region}.{}",
            socket_client::dns_suffix(region)
        )
    } else {
        host.to_owned()
    }
}

/// What clients connect to: `wss://{host}/{stage}`.
pub fn url(host: &str, stage: &str) -> String {
    format!("wss://{host}/{stage}")
}

/// The management API of the stage: `https://{host}/{stage}`.
pub fn management_endpoint(host: &str, stage: &str) -> String {
    format!("https://{host}/{stage}")
}

/// `$connect`, `$disconnect`, `$default`, then the custom routes alphabetically.
pub fn ordered_routes(routes: impl IntoIterator<Item = String>) -> Vec<String> {
    let rank = |r: &str| match r {
        "$connect" => 0,
        "$disconnect" => 1,
        "$default" => 2,
        _ => 3,
    };
    let mut routes: Vec<String> = routes.into_iter().collect();
    routes.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    routes.dedup();
    routes
}

impl Outputs {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("outputs serialize")
    }

    /// The human form, in the spirit of the original component's outputs.
    pub fn to_human(&self) -> String {
        let code = &self.code;
        let mut out = String::new();
        out.push_str("\n  socket › outputs:\n");
        out.push_str(&format!("  url:  {}\n", self.url));
        out.push_str(&format!("  management:  {}\n", self.management_endpoint));
        if let Some(domain) = &self.domain {
            out.push_str(&format!("  domain:  {}\n", domain.url));
            let target = domain.dns_target.as_deref().unwrap_or("(not reported yet)");
            let zone = domain
                .hosted_zone_id
                .as_deref()
                .unwrap_or("(not reported yet)");
            out.push_str(&format!(
                "    dns:  point {} at {target} (CNAME, or a Route 53 alias in hosted zone {zone})\n",
                domain.name
            ));
        }
        out.push_str("  code:\n");
        out.push_str(&format!(
            "    runtime:  {} ({})\n",
            code.runtime, code.architecture
        ));
        out.push_str(&format!("    env:      [{}]\n", code.env.join(", ")));
        out.push_str(&format!("    timeout:  {}\n", code.timeout));
        out.push_str(&format!("    memory:   {}\n", code.memory));
        out.push_str(&format!("  routes:  [{}]\n", self.routes.join(", ")));
        out.push_str(&format!("  apiId:         {}\n", self.api_id));
        out.push_str(&format!("  functionName:  {}\n", self.function_name));
        if let Some(registry) = &self.registry {
            out.push_str(&format!("  connections:   {}\n", registry.table));
        }
        out.push_str(&format!("  region:        {}\n", self.region));
        out.push('\n');
        let elapsed = self
            .elapsed_ms
            .map(|ms| {
                format!(
                    "{} › ",
                    format_duration(std::time::Duration::from_millis(ms))
                )
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "  {elapsed}{} › {} › done\n",
            self.stage, self.service
        ));
        out
    }

    /// Prints to stdout: JSON, or the human form.
    pub fn print(&self, json: bool) {
        let text = if json {
            self.to_json() + "\n"
        } else {
            self.to_human()
        };
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs() -> Outputs {
        let host = api_host("", "abc123", "us-east-1");
        Outputs {
            service: "echo".into(),
            url: url(&host, "prod"),
            management_endpoint: management_endpoint(&host, "prod"),
            stage: "prod".into(),
            region: "us-east-1".into(),
            api_id: "abc123".into(),
            function_name: "echo-prod".into(),
            routes: ordered_routes(
                ["message", "$default", "$connect", "$disconnect"].map(String::from),
            ),
            code: CodeOutputs {
                runtime: "provided.al2023".into(),
                architecture: "arm64".into(),
                memory: 512,
                timeout: 10,
                env: vec!["TABLE_NAME".into()],
            },
            registry: Some(RegistryOutputs {
                table: "echo-prod-connections".into(),
            }),
            domain: None,
            changes: None,
            elapsed_ms: Some(8000),
        }
    }

    #[test]
    fn json_has_the_documented_keys() {
        let value: serde_json::Value = serde_json::from_str(&outputs().to_json()).unwrap();
        for key in [
            "url",
            "stage",
            "region",
            "apiId",
            "functionName",
            "routes",
            "code",
        ] {
            assert!(value.get(key).is_some(), "missing {key}");
        }
        assert_eq!(
            value["url"],
            "wss://abc123.execute-api.us-east-1.amazonaws.com/prod"
        );
        assert_eq!(
            value["routes"],
            serde_json::json!(["$connect", "$disconnect", "$default", "message"])
        );
        assert_eq!(value["code"]["env"], serde_json::json!(["TABLE_NAME"]));
        assert_eq!(value["registry"]["table"], "echo-prod-connections");
        let mut without = outputs();
        without.registry = None;
        assert!(!without.to_json().contains("registry"));
    }

    #[test]
    fn a_domain_shows_its_url_and_dns_target() {
        let mut outputs = outputs();
        outputs.domain = Some(DomainOutputs {
            url: "wss://chat.example.com/v1".into(),
            name: "chat.example.com".into(),
            base_path: "v1".into(),
            dns_target: Some("d-abc123.execute-api.us-east-1.amazonaws.com".into()),
            hosted_zone_id: Some("Z1UJRXOUMOOFQ8".into()),
        });
        let text = outputs.to_human();
        assert!(text.contains("url:  wss://abc123.execute-api.us-east-1.amazonaws.com/prod"));
        assert!(text.contains("domain:  wss://chat.example.com/v1"));
        assert!(text.contains(
            "point chat.example.com at d-abc123.execute-api.us-east-1.amazonaws.com (CNAME, or a Route 53 alias in hosted zone Z1UJRXOUMOOFQ8)"
        ));
        let json: serde_json::Value = serde_json::from_str(&outputs.to_json()).unwrap();
        assert_eq!(json["domain"]["url"], "wss://chat.example.com/v1");
        assert_eq!(
            json["domain"]["dnsTarget"],
            "d-abc123.execute-api.us-east-1.amazonaws.com"
        );
        assert_eq!(json["domain"]["hostedZoneId"], "Z1UJRXOUMOOFQ8");
    }

    #[test]
    fn urls_come_from_the_api_endpoint_else_the_partition() {
        let aws = api_host(
            "wss://abc123.execute-api.eu-west-1.amazonaws.com",
            "abc123",
            "eu-west-1",
        );
        assert_eq!(
            url(&aws, "dev"),
            "wss://abc123.execute-api.eu-west-1.amazonaws.com/dev"
        );
        assert_eq!(
            management_endpoint(&aws, "dev"),
            "https://abc123.execute-api.eu-west-1.amazonaws.com/dev"
        );
        let china = api_host("", "abc123", "cn-north-1");
        assert_eq!(
            url(&china, "prod"),
            "wss://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod"
        );
        assert_eq!(
            api_host(
                "wss://abc123.execute-api.cn-northwest-1.amazonaws.com.cn/",
                "abc123",
                "cn-northwest-1"
            ),
            "abc123.execute-api.cn-northwest-1.amazonaws.com.cn"
        );
        assert_eq!(
            api_host("", "abc123", "cn-northwest-1"),
            "abc123.execute-api.cn-northwest-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn human_output_names_env_but_shows_no_values() {
        let text = outputs().to_human();
        assert!(text.contains("url:  wss://abc123.execute-api.us-east-1.amazonaws.com/prod"));
        assert!(text.contains("env:      [TABLE_NAME]"));
        assert!(text.contains("8.0s › prod › echo › done"));
        assert!(text.contains("connections:   echo-prod-connections"));
    }
}

/// How the commands that talk to AWS (`deploy`, `info`, `remove`) report.
#[derive(Clone, Copy, Debug, Default)]
pub struct OutputOptions {
    /// Print the result as one JSON object on stdout (no progress on stderr).
    pub json: bool,
    /// Log every AWS call.
    pub verbose: bool,
}

impl OutputOptions {
    /// Sets up logging and says how the command reports its progress.
    pub fn start(&self) -> Reporter {
        crate::aws::call_log::init_logging(self.verbose);
        if self.json {
            Reporter::Quiet
        } else {
            Reporter::Human
        }
    }
}
