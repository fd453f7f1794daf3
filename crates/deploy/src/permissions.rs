//! Every IAM action `socket deploy`, `socket info`, `socket remove` and `socket logs` need, with the SDK calls
//! that need it: the one list the README's "Permissions" table is rendered from (a test keeps
//! them equal) and the AccessDenied help reads to name what is missing.
//!
//! Some actions are checked by AWS on a call of another name: tags given to a create call need
//! the service's tagging action too (`lambda:TagResource`, `iam:TagRole`), handing the role to a
//! function needs `iam:PassRole`, and `GetFunction` returns the tags `socket` trusts only with
//! `lambda:ListTags`. API Gateway's IAM actions are HTTP verbs (`apigateway:POST` creates an
//! API, a route, a stage, a deployment or tags), not operation names.

/// Which commands make a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Deploy,
    Info,
    Remove,
    Logs,
}

use Command::{Deploy, Info, Logs, Remove};

/// One IAM action and the calls (`service:Operation`, as errors and the call log name them)
/// that need it.
#[derive(Clone, Copy, Debug)]
pub struct Permission {
    pub action: &'static str,
    pub calls: &'static [&'static str],
    pub commands: &'static [Command],
}

const fn p(
    action: &'static str,
    calls: &'static [&'static str],
    commands: &'static [Command],
) -> Permission {
    Permission {
        action,
        calls,
        commands,
    }
}

/// Everything the four commands call, by service.
pub const PERMISSIONS: &[Permission] = &[
    p("iam:GetRole", &["iam:GetRole"], &[Deploy, Info, Remove]),
    p("iam:CreateRole", &["iam:CreateRole"], &[Deploy]),
    p("iam:TagRole", &["iam:CreateRole", "iam:TagRole"], &[Deploy]),
    p("iam:UntagRole", &["iam:UntagRole"], &[Deploy]),
    p("iam:DeleteRole", &["iam:DeleteRole"], &[Remove]),
    p("iam:AttachRolePolicy", &["iam:AttachRolePolicy"], &[Deploy]),
    p("iam:DetachRolePolicy", &["iam:DetachRolePolicy"], &[Remove]),
    p(
        "iam:ListAttachedRolePolicies",
        &["iam:ListAttachedRolePolicies"],
        &[Deploy, Info, Remove],
    ),
    p("iam:ListRolePolicies", &["iam:ListRolePolicies"], &[Remove]),
    p("iam:GetRolePolicy", &["iam:GetRolePolicy"], &[Deploy, Info]),
    p("iam:PutRolePolicy", &["iam:PutRolePolicy"], &[Deploy]),
    p(
        "iam:DeleteRolePolicy",
        &["iam:DeleteRolePolicy"],
        &[Deploy, Remove],
    ),
    p(
        "iam:PassRole",
        &[
            "lambda:CreateFunction",
            "lambda:UpdateFunctionConfiguration",
        ],
        &[Deploy],
    ),
    p(
        "lambda:GetFunction",
        &["lambda:GetFunction"],
        &[Deploy, Info, Remove],
    ),
    p(
        "lambda:ListTags",
        &["lambda:GetFunction"],
        &[Deploy, Info, Remove],
    ),
    p(
        "lambda:GetFunctionConfiguration",
        &["lambda:GetFunctionConfiguration"],
        &[Deploy],
    ),
    p(
        "lambda:CreateFunction",
        &["lambda:CreateFunction"],
        &[Deploy],
    ),
    p(
        "lambda:TagResource",
        &["lambda:CreateFunction", "lambda:TagResource"],
        &[Deploy],
    ),
    p("lambda:UntagResource", &["lambda:UntagResource"], &[Deploy]),
    p(
        "lambda:GetFunctionConcurrency",
        &["lambda:GetFunctionConcurrency"],
        &[Deploy],
    ),
    p(
        "lambda:PutFunctionConcurrency",
        &["lambda:PutFunctionConcurrency"],
        &[Deploy],
    ),
    p(
        "lambda:DeleteFunctionConcurrency",
        &["lambda:DeleteFunctionConcurrency"],
        &[Deploy],
    ),
    p(
        "lambda:UpdateFunctionCode",
        &["lambda:UpdateFunctionCode"],
        &[Deploy],
    ),
    p(
        "lambda:UpdateFunctionConfiguration",
        &["lambda:UpdateFunctionConfiguration"],
        &[Deploy],
    ),
    p(
        "lambda:DeleteFunction",
        &["lambda:DeleteFunction"],
        &[Remove],
    ),
    p("lambda:GetPolicy", &["lambda:GetPolicy"], &[Deploy, Info]),
    p("lambda:AddPermission", &["lambda:AddPermission"], &[Deploy]),
    p(
        "lambda:RemovePermission",
        &["lambda:RemovePermission"],
        &[Deploy],
    ),
    p(
        "apigateway:GET",
        &[
            "apigateway:GetApi",
            "apigateway:GetApis",
            "apigateway:GetIntegrations",
            "apigateway:GetRoutes",
            "apigateway:GetStage",
            "apigateway:GetDeployment",
            "apigateway:GetAuthorizer",
            "apigateway:GetDomainName",
            "apigateway:GetDomainNames",
            "apigateway:GetApiMappings",
        ],
        &[Deploy, Info, Remove],
    ),
    p(
        "apigateway:POST",
        &[
            "apigateway:CreateApi",
            "apigateway:CreateIntegration",
            "apigateway:CreateRoute",
            "apigateway:CreateStage",
            "apigateway:CreateDeployment",
            "apigateway:CreateAuthorizer",
            "apigateway:CreateDomainName",
            "apigateway:CreateApiMapping",
            "apigateway:TagResource",
        ],
        &[Deploy],
    ),
    p(
        "apigateway:PATCH",
        &[
            "apigateway:UpdateApi",
            "apigateway:UpdateIntegration",
            "apigateway:UpdateRoute",
            "apigateway:UpdateStage",
            "apigateway:UpdateAuthorizer",
            "apigateway:UpdateDomainName",
        ],
        &[Deploy],
    ),
    p(
        "apigateway:DELETE",
        &[
            "apigateway:DeleteApi",
            "apigateway:DeleteIntegration",
            "apigateway:DeleteRoute",
            "apigateway:DeleteAuthorizer",
            "apigateway:DeleteDomainName",
            "apigateway:DeleteApiMapping",
            "apigateway:UntagResource",
        ],
        &[Deploy, Remove],
    ),
    p(
        "logs:DescribeLogGroups",
        &["logs:DescribeLogGroups"],
        &[Deploy, Info, Remove],
    ),
    p(
        "logs:ListTagsForResource",
        &["logs:ListTagsForResource"],
        &[Deploy, Info],
    ),
    p("logs:CreateLogGroup", &["logs:CreateLogGroup"], &[Deploy]),
    p(
        "logs:PutRetentionPolicy",
        &["logs:PutRetentionPolicy"],
        &[Deploy],
    ),
    p("logs:TagResource", &["logs:TagResource"], &[Deploy]),
    p("logs:UntagResource", &["logs:UntagResource"], &[Deploy]),
    p("logs:DeleteLogGroup", &["logs:DeleteLogGroup"], &[Remove]),
    p("logs:FilterLogEvents", &["logs:FilterLogEvents"], &[Logs]),
    p(
        "dynamodb:DescribeTable",
        &["dynamodb:DescribeTable"],
        &[Deploy, Info, Remove],
    ),
    p(
        "dynamodb:ListTagsOfResource",
        &["dynamodb:ListTagsOfResource"],
        &[Deploy, Info, Remove],
    ),
    p(
        "dynamodb:DescribeTimeToLive",
        &["dynamodb:DescribeTimeToLive"],
        &[Deploy, Info, Remove],
    ),
    p("dynamodb:CreateTable", &["dynamodb:CreateTable"], &[Deploy]),
    p(
        "dynamodb:TagResource",
        &["dynamodb:CreateTable", "dynamodb:TagResource"],
        &[Deploy],
    ),
    p(
        "dynamodb:UntagResource",
        &["dynamodb:UntagResource"],
        &[Deploy],
    ),
    p(
        "dynamodb:UpdateTimeToLive",
        &["dynamodb:UpdateTimeToLive"],
        &[Deploy],
    ),
    p("dynamodb:UpdateTable", &["dynamodb:UpdateTable"], &[Deploy]),
    p(
        "dynamodb:DeleteTable",
        &["dynamodb:DeleteTable"],
        &[Deploy, Remove],
    ),
];

/// The actions a failed call needs, in table order (empty for a call the table does not know).
pub fn actions_for(call: &str) -> Vec<&'static str> {
    PERMISSIONS
        .iter()
        .filter(|p| p.calls.contains(&call))
        .map(|p| p.action)
        .collect()
}

/// The action AWS's AccessDenied message names: "… is not authorized to perform:
/// lambda:TagResource on resource: …".
pub fn action_in_message(message: &str) -> Option<&str> {
    let rest = message.split("perform: ").nth(1)?;
    let action = rest
        .split(|c: char| c.is_whitespace() || c == ',')
        .next()?
        .trim_end_matches(['.', ';']);
    let (service, name) = action.split_once(':')?;
    let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    (valid(service) && valid(name)).then_some(action)
}

/// The IAM policy document granting every action (on `*`: the names `socket` derives are
/// known only once the service and stage are).
pub fn policy() -> serde_json::Value {
    let actions: Vec<&str> = PERMISSIONS.iter().map(|p| p.action).collect();
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": "*" }]
    })
}

/// The README's table: one row per action, with the commands that need it.
pub fn markdown_table() -> String {
    let mut out = String::from("| Action | Needed by | For the calls |\n| --- | --- | --- |\n");
    for permission in PERMISSIONS {
        let commands: Vec<&str> = permission
            .commands
            .iter()
            .map(|c| match c {
                Deploy => "deploy",
                Info => "info",
                Remove => "remove",
                Logs => "logs",
            })
            .collect();
        let calls: Vec<String> = permission.calls.iter().map(|c| format!("`{c}`")).collect();
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            permission.action,
            commands.join(", "),
            calls.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Actions the stage's own policies name (API Gateway invoking the function, the function
    /// using its registry table): granted by `socket deploy`, not needed by whoever runs it.
    fn granted_to_the_stage(action: &str) -> bool {
        action == "lambda:InvokeFunction" || crate::aws::iam::REGISTRY_ACTIONS.contains(&action)
    }

    #[test]
    fn the_readme_lists_exactly_the_table() {
        let readme = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"),
        )
        .expect("README.md");
        const START: &str = "<!-- permissions:start -->\n";
        const END: &str = "<!-- permissions:end -->";
        let start = readme.find(START).expect("the permissions start marker") + START.len();
        let end = readme[start..].find(END).expect("the end marker") + start;
        assert_eq!(
            &readme[start..end],
            markdown_table(),
            "README.md's permission table differs from crates/deploy/src/permissions.rs; \
             paste markdown_table()'s output between the markers"
        );
    }

    #[test]
    fn every_call_the_code_makes_is_in_the_table() {
        // The operation names the aws/ modules pass to `.aws(..)` / `.found(..)`.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/aws");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let source = std::fs::read_to_string(path).unwrap();
            for quoted in source.split('"').skip(1).step_by(2) {
                let is_call = ["iam:", "lambda:", "apigateway:", "logs:", "dynamodb:"]
                    .iter()
                    .any(|s| quoted.starts_with(s))
                    && quoted[quoted.find(':').unwrap() + 1..]
                        .starts_with(|c: char| c.is_ascii_uppercase());
                if is_call && !granted_to_the_stage(quoted) && actions_for(quoted).is_empty() {
                    missing.push(quoted.to_owned());
                }
            }
        }
        assert!(missing.is_empty(), "calls not in PERMISSIONS: {missing:?}");
    }

    #[test]
    fn tagging_on_create_needs_the_tagging_actions() {
        assert_eq!(
            actions_for("lambda:CreateFunction"),
            [
                "iam:PassRole",
                "lambda:CreateFunction",
                "lambda:TagResource"
            ]
        );
        assert_eq!(
            actions_for("iam:CreateRole"),
            ["iam:CreateRole", "iam:TagRole"]
        );
        assert_eq!(actions_for("apigateway:CreateRoute"), ["apigateway:POST"]);
        assert!(actions_for("s3:GetObject").is_empty());
    }

    #[test]
    fn the_action_is_read_from_aws_messages() {
        let aws = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: \
                   lambda:TagResource on resource: arn:aws:lambda:us-east-1:123456789012:function:echo-dev \
                   because no identity-based policy allows the lambda:TagResource action";
        assert_eq!(action_in_message(aws), Some("lambda:TagResource"));
        let moto =
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:CreateRole";
        assert_eq!(action_in_message(moto), Some("iam:CreateRole"));
        assert_eq!(action_in_message("Access denied"), None);
        assert_eq!(action_in_message("not authorized to perform: this"), None);
    }

    #[test]
    fn the_policy_grants_every_action_once() {
        let policy = policy();
        let actions = policy["Statement"][0]["Action"].as_array().unwrap();
        assert_eq!(actions.len(), PERMISSIONS.len());
        let unique: std::collections::BTreeSet<_> = actions.iter().map(|a| a.as_str()).collect();
        assert_eq!(unique.len(), actions.len(), "no action twice");
    }
}
