//! What every resource of a stage is called: names derived from the service, the stage and the
//! region, and the ARNs those names take once the account is known.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::aws::{account_of, partition_of, TAG_SERVICE, TAG_STAGE};
use socket_manifest::Manifest;

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
    /// The connection registry's table (exists only with `connections:` on).
    pub table: String,
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
            table: socket_manifest::names::registry_table(service, stage),
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

    /// The management API of the stage: on the host of the API's reported `ApiEndpoint`
    /// (`https://{apiId}.execute-api.{region}.{suffix}/{stage}`).
    pub fn management_endpoint(&self, api_id: &str, api_endpoint: &str) -> String {
        let host = crate::outputs::api_host(api_endpoint, api_id, &self.region);
        crate::outputs::management_endpoint(&host, &self.stage)
    }

    /// Whether a resource's tags say it belongs to this stage.
    pub fn owns(&self, tags: &BTreeMap<String, String>) -> bool {
        tags.get(TAG_SERVICE) == Some(&self.service) && tags.get(TAG_STAGE) == Some(&self.stage)
    }
}

/// The ARNs that depend on the account, known once the role or the function exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub partition: String,
    pub id: String,
}

impl Account {
    /// The account an existing resource's ARN names.
    pub fn from_arn(arn: &str) -> Option<Account> {
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

    /// `arn:aws:logs:{region}:{account}:log-group:{name}` (what the tagging calls take).
    pub fn log_group_arn(&self, region: &str, group: &str) -> String {
        format!(
            "arn:{}:logs:{region}:{}:log-group:{group}",
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

    /// `arn:aws:dynamodb:{region}:{account}:table/{table}`.
    pub fn table_arn(&self, region: &str, table: &str) -> String {
        format!(
            "arn:{}:dynamodb:{region}:{}:table/{table}",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_aws_limits_and_differ_by_stage_and_region() {
        let a = StageNames::new("echo", "dev", "us-east-1");
        let b = StageNames::new("echo", "prod", "us-east-1");
        let c = StageNames::new("echo", "dev", "eu-west-1");
        assert_eq!(a.function, "echo-dev");
        assert_ne!(a.role, b.role);
        assert_ne!(a.role, c.role);
        assert_eq!(a.log_group, "/aws/lambda/echo-dev");
        assert_eq!(a.table, "echo-dev-connections");
        let long = StageNames::new(&"s".repeat(45), "staging", "ap-southeast-4");
        assert!(long.role.len() <= 64, "{}", long.role);
    }

    #[test]
    fn account_arns_come_from_an_existing_arn() {
        let account = Account::from_arn("arn:aws-cn:iam::123456789012:role/echo-dev").unwrap();
        assert_eq!(account.partition, "aws-cn");
        assert_eq!(
            account.function_arn("cn-north-1", "echo-dev"),
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:echo-dev"
        );
        assert_eq!(
            account.table_arn("cn-north-1", "echo-dev-connections"),
            "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/echo-dev-connections"
        );
        assert_eq!(Account::from_arn("nonsense"), None);
    }
}
