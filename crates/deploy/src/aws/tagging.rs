//! Tagging the resources of a stage after they exist: when the manifest's `tags:` change, each
//! resource gets the wanted tags set and the ones no longer wanted removed.

use std::collections::BTreeMap;

use super::{AwsError, Clients, SdkResultExt};

/// A resource that carries the stage's tags, by the name or ARN its service tags it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tagged {
    Role(String),
    Function(String),
    /// An API Gateway resource ARN (`arn:…:apigateway:{region}::/apis/{id}`, `…/domainnames/{name}`).
    ApiGateway(String),
    LogGroup(String),
    Table(String),
}

/// Sets `set` (adding or overwriting) and removes the keys `remove` on `resource`.
pub async fn retag(
    clients: &Clients,
    resource: &Tagged,
    set: &BTreeMap<String, String>,
    remove: &[String],
) -> Result<(), AwsError> {
    if !set.is_empty() {
        tag(clients, resource, set).await?;
    }
    if !remove.is_empty() {
        untag(clients, resource, remove).await?;
    }
    Ok(())
}

async fn tag(
    clients: &Clients,
    resource: &Tagged,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let pairs = || tags.clone().into_iter();
    match resource {
        Tagged::Role(name) => {
            let tags = pairs()
                .map(|(k, v)| super::iam::tag(&k, &v))
                .collect::<Vec<_>>();
            clients
                .iam
                .tag_role()
                .role_name(name)
                .set_tags(Some(tags))
                .send()
                .await
                .aws("iam:TagRole", clients)?;
        }
        Tagged::Function(arn) => {
            clients
                .lambda
                .tag_resource()
                .resource(arn)
                .set_tags(Some(pairs().collect()))
                .send()
                .await
                .aws("lambda:TagResource", clients)?;
        }
        Tagged::ApiGateway(arn) => {
            clients
                .apigateway
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(pairs().collect()))
                .send()
                .await
                .aws("apigateway:TagResource", clients)?;
        }
        Tagged::LogGroup(arn) => super::logs::tag_log_group(clients, arn, tags).await?,
        Tagged::Table(arn) => {
            let tags = pairs()
                .map(|(k, v)| {
                    aws_sdk_dynamodb::types::Tag::builder()
                        .key(k)
                        .value(v)
                        .build()
                        .expect("key and value are set")
                })
                .collect::<Vec<_>>();
            clients
                .dynamodb
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(tags))
                .send()
                .await
                .aws("dynamodb:TagResource", clients)?;
        }
    }
    Ok(())
}

async fn untag(clients: &Clients, resource: &Tagged, keys: &[String]) -> Result<(), AwsError> {
    let keys = Some(keys.to_vec());
    match resource {
        Tagged::Role(name) => {
            clients
                .iam
                .untag_role()
                .role_name(name)
                .set_tag_keys(keys)
                .send()
                .await
                .aws("iam:UntagRole", clients)?;
        }
        Tagged::Function(arn) => {
            clients
                .lambda
                .untag_resource()
                .resource(arn)
                .set_tag_keys(keys)
                .send()
                .await
                .aws("lambda:UntagResource", clients)?;
        }
        Tagged::ApiGateway(arn) => {
            clients
                .apigateway
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(keys)
                .send()
                .await
                .aws("apigateway:UntagResource", clients)?;
        }
        Tagged::LogGroup(arn) => {
            clients
                .logs
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(keys)
                .send()
                .await
                .aws("logs:UntagResource", clients)?;
        }
        Tagged::Table(arn) => {
            clients
                .dynamodb
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(keys)
                .send()
                .await
                .aws("dynamodb:UntagResource", clients)?;
        }
    }
    Ok(())
}

/// What to change on a resource carrying `current` so it carries exactly `wanted` (keys AWS
/// reserves, `aws:…`, are AWS's own and stay): the tags to set and the keys to remove.
pub fn difference(
    wanted: &BTreeMap<String, String>,
    current: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let set = wanted
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = current
        .keys()
        .filter(|k| !wanted.contains_key(*k) && !k.starts_with("aws:"))
        .cloned()
        .collect();
    (set, remove)
}
