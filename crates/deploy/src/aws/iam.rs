//! The function's IAM role: trusted by Lambda, basic execution logging, an inline policy that
//! allows `execute-api:ManageConnections` on this stage's API only and, with `connections:`, one
//! that allows the registry's DynamoDB actions on this stage's table only.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{AwsError, Clients, SdkResultExt};

/// The inline policy's name on every role `socket` creates.
pub const MANAGE_CONNECTIONS_POLICY: &str = "socket-manage-connections";

/// The inline policy that lets the function use the connection registry's table.
pub const REGISTRY_POLICY: &str = "socket-connection-registry";

/// Exactly the DynamoDB actions the runtime's registry calls (see socket-client's `registry`).
pub const REGISTRY_ACTIONS: [&str; 5] = [
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:BatchWriteItem",
];

/// CloudWatch Logs for the function, nothing else.
pub fn basic_execution_policy_arn(partition: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
}

/// Lets Lambda assume the role.
pub fn trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "lambda.amazonaws.com" },
            "Action": "sts:AssumeRole"
        }]
    })
}

/// `execute-api:ManageConnections` (send, disconnect, info) on one API's connections.
pub fn manage_connections_policy(api_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "execute-api:ManageConnections",
            "Resource": format!("{api_arn}/*")
        }]
    })
}

/// [`REGISTRY_ACTIONS`] on one table (no index: the registry queries the table's own keys).
pub fn registry_policy(table_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": REGISTRY_ACTIONS,
            "Resource": table_arn
        }]
    })
}

#[derive(Clone, Debug)]
pub struct Role {
    pub name: String,
    pub arn: String,
    pub tags: BTreeMap<String, String>,
}

pub async fn get_role(clients: &Clients, name: &str) -> Result<Option<Role>, AwsError> {
    let out = clients
        .iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .found("iam:GetRole", clients)?;
    Ok(out.and_then(|o| o.role).map(|role| Role {
        name: role.role_name().to_owned(),
        arn: role.arn().to_owned(),
        tags: role
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
    }))
}

pub async fn create_role(
    clients: &Clients,
    name: &str,
    description: &str,
    tags: &BTreeMap<String, String>,
) -> Result<Role, AwsError> {
    let out = clients
        .iam
        .create_role()
        .role_name(name)
        .description(description)
        .assume_role_policy_document(trust_policy().to_string())
        .set_tags(Some(tags.iter().map(|(k, v)| tag(k, v)).collect()))
        .send()
        .await
        .aws("iam:CreateRole", clients)?;
    let arn = out.role().map(|r| r.arn().to_owned()).unwrap_or_default();
    Ok(Role {
        name: name.to_owned(),
        arn,
        tags: tags.clone(),
    })
}

pub(crate) fn tag(key: &str, value: &str) -> aws_sdk_iam::types::Tag {
    aws_sdk_iam::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .expect("key and value are set")
}

/// ARNs of the managed policies attached to the role.
pub async fn attached_policies(clients: &Clients, role: &str) -> Result<Vec<String>, AwsError> {
    let mut arns = Vec::new();
    let mut marker = None;
    loop {
        let out = clients
            .iam
            .list_attached_role_policies()
            .role_name(role)
            .set_marker(marker)
            .send()
            .await
            .aws("iam:ListAttachedRolePolicies", clients)?;
        arns.extend(
            out.attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_owned)),
        );
        match out.marker {
            Some(next) if out.is_truncated => marker = Some(next),
            _ => return Ok(arns),
        }
    }
}

pub async fn attach_policy(clients: &Clients, role: &str, arn: &str) -> Result<(), AwsError> {
    clients
        .iam
        .attach_role_policy()
        .role_name(role)
        .policy_arn(arn)
        .send()
        .await
        .aws("iam:AttachRolePolicy", clients)?;
    Ok(())
}

pub async fn detach_policy(clients: &Clients, role: &str, arn: &str) -> Result<(), AwsError> {
    clients
        .iam
        .detach_role_policy()
        .role_name(role)
        .policy_arn(arn)
        .send()
        .await
        .found("iam:DetachRolePolicy", clients)?;
    Ok(())
}

/// The inline policy's document, if the role has it.
pub async fn inline_policy(
    clients: &Clients,
    role: &str,
    name: &str,
) -> Result<Option<Value>, AwsError> {
    let out = clients
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
        .found("iam:GetRolePolicy", clients)?;
    Ok(out.and_then(|o| decode_policy(o.policy_document())))
}

pub async fn inline_policy_names(clients: &Clients, role: &str) -> Result<Vec<String>, AwsError> {
    let mut names = Vec::new();
    let mut marker = None;
    loop {
        let out = clients
            .iam
            .list_role_policies()
            .role_name(role)
            .set_marker(marker)
            .send()
            .await
            .aws("iam:ListRolePolicies", clients)?;
        names.extend(out.policy_names().iter().cloned());
        match out.marker {
            Some(next) if out.is_truncated => marker = Some(next),
            _ => return Ok(names),
        }
    }
}

pub async fn put_inline_policy(
    clients: &Clients,
    role: &str,
    name: &str,
    document: &Value,
) -> Result<(), AwsError> {
    clients
        .iam
        .put_role_policy()
        .role_name(role)
        .policy_name(name)
        .policy_document(document.to_string())
        .send()
        .await
        .aws("iam:PutRolePolicy", clients)?;
    Ok(())
}

pub async fn delete_inline_policy(
    clients: &Clients,
    role: &str,
    name: &str,
) -> Result<(), AwsError> {
    clients
        .iam
        .delete_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
        .found("iam:DeleteRolePolicy", clients)?;
    Ok(())
}

/// Deletes the role after detaching and deleting its policies (IAM refuses otherwise).
pub async fn delete_role(clients: &Clients, role: &str) -> Result<(), AwsError> {
    for arn in attached_policies(clients, role).await? {
        detach_policy(clients, role, &arn).await?;
    }
    for name in inline_policy_names(clients, role).await? {
        delete_inline_policy(clients, role, &name).await?;
    }
    clients
        .iam
        .delete_role()
        .role_name(role)
        .send()
        .await
        .found("iam:DeleteRole", clients)?;
    Ok(())
}

/// Whether an inline policy grants exactly `ManageConnections` on `api_arn/*`.
///
/// Compared by meaning, not text: IAM may return the document re-encoded.
pub fn grants_manage_connections(document: &Value, api_arn: &str) -> bool {
    document == &manage_connections_policy(api_arn)
}

/// Whether an inline policy grants exactly the registry's actions on `table_arn`.
pub fn grants_registry(document: &Value, table_arn: &str) -> bool {
    document == &registry_policy(table_arn)
}

/// IAM returns policy documents URL-encoded (RFC 3986); this gives the JSON back.
fn decode_policy(document: &str) -> Option<Value> {
    // `+` reads as a space, as in form encoding; a literal plus arrives as `%2B`.
    serde_json::from_str(document)
        .ok()
        .or_else(|| serde_json::from_str(&socket_protocol::percent::decode_form(document)).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inline_policy_is_scoped_to_one_api() {
        let api = "arn:aws:execute-api:us-east-1:123456789012:abc123";
        let doc = manage_connections_policy(api);
        assert_eq!(doc["Statement"][0]["Resource"], format!("{api}/*"));
        assert_eq!(
            doc["Statement"][0]["Action"],
            "execute-api:ManageConnections"
        );
        assert!(grants_manage_connections(&doc, api));
        assert!(!grants_manage_connections(
            &doc,
            "arn:aws:execute-api:us-east-1:123456789012:other"
        ));
    }

    #[test]
    fn the_registry_policy_is_scoped_to_one_table() {
        let table = "arn:aws:dynamodb:us-east-1:123456789012:table/echo-dev-connections";
        let doc = registry_policy(table);
        assert_eq!(doc["Statement"][0]["Resource"], table);
        assert_eq!(
            doc["Statement"][0]["Action"],
            json!([
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
                "dynamodb:GetItem",
                "dynamodb:Query",
                "dynamodb:BatchWriteItem"
            ])
        );
        assert!(grants_registry(&doc, table));
        assert!(!grants_registry(&doc, &format!("{table}/index/*")));
        assert!(!grants_registry(&manage_connections_policy(table), table));
    }

    #[test]
    fn policies_are_decoded_whether_or_not_url_encoded() {
        let plain = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(decode_policy(plain), decode_policy(encoded));
        assert!(decode_policy(plain).is_some());
        assert_eq!(decode_policy("%7"), None);
        let form = "%7B%22Sid%22%3A+%22a%2Bb%22%7D";
        assert_eq!(decode_policy(form), Some(json!({"Sid": "a+b"})));
    }
}
