//! Custom domains: the API Gateway domain name (regional, TLS 1.2, the manifest's ACM
//! certificate) and the API mapping that serves the stage under it.

use std::collections::BTreeMap;

use aws_sdk_apigatewayv2::types::{DomainNameConfiguration, EndpointType, SecurityPolicy};

use super::{AwsError, Clients, SdkResultExt};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainName {
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub certificate: String,
    pub endpoint_type: String,
    pub security_policy: String,
    /// The regional host name a DNS record must point at (`ApiGatewayDomainName`).
    pub target: Option<String>,
    /// The hosted zone of `target`, for a Route 53 alias record.
    pub hosted_zone_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiMapping {
    pub id: String,
    pub api_id: String,
    pub stage: String,
    /// The base path; empty for the domain's root.
    pub key: String,
}

/// A [`DomainName`] from `GetDomainName`'s output or an item of `GetDomainNames`.
macro_rules! domain_from {
    ($domain:expr, $name:expr) => {{
        let config = $domain.domain_name_configurations().first();
        DomainName {
            name: $domain.domain_name().unwrap_or($name).to_owned(),
            tags: $domain
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            certificate: config
                .and_then(|c| c.certificate_arn())
                .unwrap_or_default()
                .to_owned(),
            endpoint_type: config
                .and_then(|c| c.endpoint_type())
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            security_policy: config
                .and_then(|c| c.security_policy())
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            target: config
                .and_then(|c| c.api_gateway_domain_name())
                .map(str::to_owned),
            hosted_zone_id: config.and_then(|c| c.hosted_zone_id()).map(str::to_owned),
        }
    }};
}

impl DomainName {
    /// The fields that differ from a regional TLS 1.2 domain with `certificate`.
    pub fn differences(&self, certificate: &str) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if self.certificate != certificate {
            fields.push("certificate");
        }
        if self.endpoint_type != EndpointType::Regional.as_str() {
            fields.push("endpoint_type");
        }
        if self.security_policy != SecurityPolicy::Tls12.as_str() {
            fields.push("security_policy");
        }
        fields
    }
}

fn configuration(certificate: &str) -> Result<DomainNameConfiguration, AwsError> {
    Ok(DomainNameConfiguration::builder()
        .certificate_arn(certificate)
        .endpoint_type(EndpointType::Regional)
        .security_policy(SecurityPolicy::Tls12)
        .build())
}

pub async fn get_domain_name(
    clients: &Clients,
    name: &str,
) -> Result<Option<DomainName>, AwsError> {
    let out = clients
        .apigateway
        .get_domain_name()
        .domain_name(name)
        .send()
        .await
        .found("apigateway:GetDomainName", clients)?;
    Ok(out.map(|domain| domain_from!(domain, name)))
}

/// Every domain name in the region whose tags include all of `tags`.
pub async fn find_domain_names(
    clients: &Clients,
    tags: &BTreeMap<String, String>,
) -> Result<Vec<DomainName>, AwsError> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = clients
            .apigateway
            .get_domain_names()
            .set_next_token(token.clone())
            .send()
            .await
            .aws("apigateway:GetDomainNames", clients)?;
        found.extend(
            out.items()
                .iter()
                .map(|domain| domain_from!(domain, ""))
                .filter(|domain| tags.iter().all(|(k, v)| domain.tags.get(k) == Some(v))),
        );
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return Ok(found),
        }
    }
}

pub async fn create_domain_name(
    clients: &Clients,
    name: &str,
    certificate: &str,
    tags: &BTreeMap<String, String>,
) -> Result<DomainName, AwsError> {
    let out = clients
        .apigateway
        .create_domain_name()
        .domain_name(name)
        .domain_name_configurations(configuration(certificate)?)
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .aws("apigateway:CreateDomainName", clients)?;
    Ok(domain_from!(out, name))
}

pub async fn update_domain_name(
    clients: &Clients,
    name: &str,
    certificate: &str,
) -> Result<DomainName, AwsError> {
    let out = clients
        .apigateway
        .update_domain_name()
        .domain_name(name)
        .domain_name_configurations(configuration(certificate)?)
        .send()
        .await
        .aws("apigateway:UpdateDomainName", clients)?;
    Ok(domain_from!(out, name))
}

/// Deletes the domain name; `false` if it was already gone.
pub async fn delete_domain_name(clients: &Clients, name: &str) -> Result<bool, AwsError> {
    let out = clients
        .apigateway
        .delete_domain_name()
        .domain_name(name)
        .send()
        .await
        .found("apigateway:DeleteDomainName", clients)?;
    Ok(out.is_some())
}

pub async fn api_mappings(clients: &Clients, domain: &str) -> Result<Vec<ApiMapping>, AwsError> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let Some(out) = clients
            .apigateway
            .get_api_mappings()
            .domain_name(domain)
            .set_next_token(token.clone())
            .send()
            .await
            .found("apigateway:GetApiMappings", clients)?
        else {
            return Ok(found);
        };
        found.extend(out.items().iter().map(|m| ApiMapping {
            id: m.api_mapping_id().unwrap_or_default().to_owned(),
            api_id: m.api_id().unwrap_or_default().to_owned(),
            stage: m.stage().unwrap_or_default().to_owned(),
            key: m.api_mapping_key().unwrap_or_default().to_owned(),
        }));
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return Ok(found),
        }
    }
}

pub async fn create_api_mapping(
    clients: &Clients,
    domain: &str,
    api: &str,
    stage: &str,
    key: &str,
) -> Result<String, AwsError> {
    let out = clients
        .apigateway
        .create_api_mapping()
        .domain_name(domain)
        .api_id(api)
        .stage(stage)
        .api_mapping_key(key)
        .send()
        .await
        .aws("apigateway:CreateApiMapping", clients)?;
    Ok(out.api_mapping_id().unwrap_or_default().to_owned())
}

pub async fn delete_api_mapping(clients: &Clients, domain: &str, id: &str) -> Result<(), AwsError> {
    clients
        .apigateway
        .delete_api_mapping()
        .domain_name(domain)
        .api_mapping_id(id)
        .send()
        .await
        .found("apigateway:DeleteApiMapping", clients)?;
    Ok(())
}
