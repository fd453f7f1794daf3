//! The WebSocket API: the API itself, its one `AWS_PROXY` integration to the function, its
//! routes, its stage and the deployments the stage serves.
//!
//! The stage serves explicit deployments ([`super::apigateway_deployment`]), not auto-deploy.

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_apigatewayv2::types::{IntegrationType, ProtocolType};

pub use super::apigateway_deployment::{
    create_deployment, get_deployment, wait_deployed, Deployment,
};
use super::{AwsError, Clients, SdkResultExt};

#[derive(Clone, Debug)]
pub struct Api {
    pub id: String,
    pub name: String,
    pub route_selection: String,
    pub description: String,
    pub tags: BTreeMap<String, String>,
    /// Creation time in seconds since the epoch (used to keep the oldest of duplicates).
    pub created: i64,
    /// `wss://{id}.execute-api.{region}.amazonaws.com` as AWS reports it (empty if it did not).
    pub endpoint: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Integration {
    pub id: String,
    pub kind: String,
    pub uri: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub id: String,
    pub key: String,
    pub target: String,
    /// `NONE`, `CUSTOM` (a Lambda authorizer), ...
    pub authorization_type: Option<String>,
    pub authorizer_id: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Stage {
    pub name: String,
    pub auto_deploy: bool,
    /// The deployment the stage serves.
    pub deployment_id: Option<String>,
}

fn tags_of(tags: Option<&std::collections::HashMap<String, String>>) -> BTreeMap<String, String> {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Every item of a paginated `Get*` call. `page` fetches the page a `NextToken` points at (the
/// first one for `None`) and returns its items with the next token; a missing or empty token
/// ends the listing.
async fn paginate<T, Page, Fut>(mut page: Page) -> Result<Vec<T>, AwsError>
where
    Page: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let (items, next) = page(token).await?;
        found.extend(items);
        match next {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(found),
        }
    }
}

/// An [`Api`] from `GetApi`'s output or an item of `GetApis` (two SDK types with the same
/// accessors); `id` stands in for a missing `ApiId`.
macro_rules! api_from {
    ($api:expr, $id:expr) => {
        Api {
            id: $api.api_id().unwrap_or($id).to_owned(),
            name: $api.name().unwrap_or_default().to_owned(),
            route_selection: $api
                .route_selection_expression()
                .unwrap_or_default()
                .to_owned(),
            description: $api.description().unwrap_or_default().to_owned(),
            tags: tags_of($api.tags()),
            created: $api.created_date().map(|d| d.secs()).unwrap_or_default(),
            endpoint: $api.api_endpoint().unwrap_or_default().to_owned(),
        }
    };
}

pub async fn get_api(clients: &Clients, id: &str) -> Result<Option<Api>, AwsError> {
    let out = clients
        .apigateway
        .get_api()
        .api_id(id)
        .send()
        .await
        .found("apigateway:GetApi", clients)?;
    Ok(out.map(|api| api_from!(api, id)))
}

/// Every API in the region whose tags include all of `tags`, oldest first.
pub async fn find_apis(
    clients: &Clients,
    tags: &BTreeMap<String, String>,
) -> Result<Vec<Api>, AwsError> {
    let mut found = paginate(|token| async move {
        let out = clients
            .apigateway
            .get_apis()
            .set_next_token(token)
            .send()
            .await
            .aws("apigateway:GetApis", clients)?;
        let apis = out
            .items()
            .iter()
            .map(|api| api_from!(api, ""))
            .filter(|api| tags.iter().all(|(k, v)| api.tags.get(k) == Some(v)))
            .collect();
        Ok((apis, out.next_token().map(str::to_owned)))
    })
    .await?;
    found.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
    Ok(found)
}

pub async fn create_api(
    clients: &Clients,
    name: &str,
    route_selection: &str,
    description: &str,
    tags: &BTreeMap<String, String>,
) -> Result<Api, AwsError> {
    let out = clients
        .apigateway
        .create_api()
        .name(name)
        .protocol_type(ProtocolType::Websocket)
        .route_selection_expression(route_selection)
        .description(description)
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .aws("apigateway:CreateApi", clients)?;
    Ok(api_from!(out, ""))
}

pub async fn update_api(
    clients: &Clients,
    id: &str,
    route_selection: &str,
    description: &str,
) -> Result<(), AwsError> {
    clients
        .apigateway
        .update_api()
        .api_id(id)
        .route_selection_expression(route_selection)
        .description(description)
        .send()
        .await
        .aws("apigateway:UpdateApi", clients)?;
    Ok(())
}

/// Deletes the API with its routes, integrations and stages; `false` if it was already gone.
pub async fn delete_api(clients: &Clients, id: &str) -> Result<bool, AwsError> {
    let out = clients
        .apigateway
        .delete_api()
        .api_id(id)
        .send()
        .await
        .found("apigateway:DeleteApi", clients)?;
    Ok(out.is_some())
}

pub async fn integrations(clients: &Clients, api: &str) -> Result<Vec<Integration>, AwsError> {
    paginate(|token| async move {
        let out = clients
            .apigateway
            .get_integrations()
            .api_id(api)
            .set_next_token(token)
            .send()
            .await
            .aws("apigateway:GetIntegrations", clients)?;
        let integrations = out
            .items()
            .iter()
            .map(|i| Integration {
                id: i.integration_id().unwrap_or_default().to_owned(),
                kind: i
                    .integration_type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                uri: i.integration_uri().unwrap_or_default().to_owned(),
            })
            .collect();
        Ok((integrations, out.next_token().map(str::to_owned)))
    })
    .await
}

pub async fn create_integration(
    clients: &Clients,
    api: &str,
    uri: &str,
) -> Result<String, AwsError> {
    let out = clients
        .apigateway
        .create_integration()
        .api_id(api)
        .integration_type(IntegrationType::AwsProxy)
        .integration_method("POST")
        .integration_uri(uri)
        .send()
        .await
        .aws("apigateway:CreateIntegration", clients)?;
    Ok(out.integration_id().unwrap_or_default().to_owned())
}

pub async fn update_integration(
    clients: &Clients,
    api: &str,
    id: &str,
    uri: &str,
) -> Result<(), AwsError> {
    clients
        .apigateway
        .update_integration()
        .api_id(api)
        .integration_id(id)
        .integration_type(IntegrationType::AwsProxy)
        .integration_method("POST")
        .integration_uri(uri)
        .send()
        .await
        .aws("apigateway:UpdateIntegration", clients)?;
    Ok(())
}

pub async fn delete_integration(clients: &Clients, api: &str, id: &str) -> Result<(), AwsError> {
    clients
        .apigateway
        .delete_integration()
        .api_id(api)
        .integration_id(id)
        .send()
        .await
        .found("apigateway:DeleteIntegration", clients)?;
    Ok(())
}

pub async fn routes(clients: &Clients, api: &str) -> Result<Vec<Route>, AwsError> {
    paginate(|token| async move {
        let out = clients
            .apigateway
            .get_routes()
            .api_id(api)
            .set_next_token(token)
            .send()
            .await
            .aws("apigateway:GetRoutes", clients)?;
        let routes = out
            .items()
            .iter()
            .map(|r| Route {
                id: r.route_id().unwrap_or_default().to_owned(),
                key: r.route_key().unwrap_or_default().to_owned(),
                target: r.target().unwrap_or_default().to_owned(),
                authorization_type: r.authorization_type().map(|t| t.as_str().to_owned()),
                authorizer_id: r.authorizer_id().map(str::to_owned),
            })
            .collect();
        Ok((routes, out.next_token().map(str::to_owned)))
    })
    .await
}

pub async fn create_route(
    clients: &Clients,
    api: &str,
    key: &str,
    target: &str,
) -> Result<String, AwsError> {
    let out = clients
        .apigateway
        .create_route()
        .api_id(api)
        .route_key(key)
        .target(target)
        .send()
        .await
        .aws("apigateway:CreateRoute", clients)?;
    Ok(out.route_id().unwrap_or_default().to_owned())
}

pub async fn retarget_route(
    clients: &Clients,
    api: &str,
    id: &str,
    target: &str,
) -> Result<(), AwsError> {
    clients
        .apigateway
        .update_route()
        .api_id(api)
        .route_id(id)
        .target(target)
        .send()
        .await
        .aws("apigateway:UpdateRoute", clients)?;
    Ok(())
}

pub async fn delete_route(clients: &Clients, api: &str, id: &str) -> Result<(), AwsError> {
    clients
        .apigateway
        .delete_route()
        .api_id(api)
        .route_id(id)
        .send()
        .await
        .found("apigateway:DeleteRoute", clients)?;
    Ok(())
}

pub async fn get_stage(
    clients: &Clients,
    api: &str,
    name: &str,
) -> Result<Option<Stage>, AwsError> {
    let out = clients
        .apigateway
        .get_stage()
        .api_id(api)
        .stage_name(name)
        .send()
        .await
        .found("apigateway:GetStage", clients)?;
    Ok(out.map(|s| Stage {
        name: s.stage_name().unwrap_or(name).to_owned(),
        auto_deploy: s.auto_deploy().unwrap_or(false),
        deployment_id: s
            .deployment_id()
            .filter(|d| !d.is_empty())
            .map(str::to_owned),
    }))
}

/// A stage that serves the deployments `socket` points it at (no auto-deploy).
pub async fn create_stage(
    clients: &Clients,
    api: &str,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    clients
        .apigateway
        .create_stage()
        .api_id(api)
        .stage_name(name)
        .auto_deploy(false)
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .aws("apigateway:CreateStage", clients)?;
    Ok(())
}

/// Turns auto-deploy off on a stage made with it, so deployments are `socket`'s to check.
pub async fn disable_auto_deploy(clients: &Clients, api: &str, name: &str) -> Result<(), AwsError> {
    clients
        .apigateway
        .update_stage()
        .api_id(api)
        .stage_name(name)
        .auto_deploy(false)
        .send()
        .await
        .aws("apigateway:UpdateStage", clients)?;
    Ok(())
}

/// Makes the stage serve `deployment`.
pub async fn point_stage(
    clients: &Clients,
    api: &str,
    name: &str,
    deployment: &str,
) -> Result<(), AwsError> {
    clients
        .apigateway
        .update_stage()
        .api_id(api)
        .stage_name(name)
        .deployment_id(deployment)
        .send()
        .await
        .aws("apigateway:UpdateStage", clients)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(future)
    }

    #[test]
    fn paginate_follows_next_tokens_until_none_or_empty() {
        for last in [None, Some(String::new())] {
            let mut asked = Vec::new();
            let items = block_on(paginate(|token: Option<String>| {
                asked.push(token.clone());
                let last = last.clone();
                async move {
                    Ok(match token.as_deref() {
                        None => (vec![1, 2], Some("a".to_owned())),
                        Some("a") => (vec![3], Some("b".to_owned())),
                        _ => (vec![], last),
                    })
                }
            }))
            .unwrap();
            assert_eq!(items, vec![1, 2, 3]);
            assert_eq!(asked, vec![None, Some("a".into()), Some("b".into())]);
        }
    }

    #[test]
    fn paginate_stops_at_the_first_error() {
        let mut pages = 0;
        let result: Result<Vec<u8>, AwsError> = block_on(paginate(|_| {
            pages += 1;
            async {
                Err(AwsError::NoCredentials {
                    operation: "apigateway:GetRoutes",
                })
            }
        }));
        assert!(matches!(result, Err(AwsError::NoCredentials { .. })));
        assert_eq!(pages, 1);
    }
}
