//! The `$connect` REQUEST authorizer: the authorizer itself (API Gateway invokes the function
//! with the identity sources the manifest names), the `$connect` route's authorization that
//! points at it, and the Lambda permission that lets the authorizer invoke the function.

use aws_sdk_apigatewayv2::types::{AuthorizationType, AuthorizerType};

use super::{lambda, AwsError, Clients, SdkResultExt};

/// The statement id of the permission that lets the authorizer invoke the function.
pub const PERMISSION_ID: &str = "socket-apigateway-authorizer";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorizer {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub uri: String,
    pub identity_sources: Vec<String>,
}

/// What an authorizer should be: a REQUEST authorizer invoking `uri` with these sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizerSpec<'a> {
    pub name: &'a str,
    pub uri: &'a str,
    pub identity_sources: &'a [String],
}

impl Authorizer {
    /// The fields that differ from `want`.
    pub fn differences(&self, want: &AuthorizerSpec) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if self.kind != AuthorizerType::Request.as_str() {
            fields.push("type");
        }
        if self.uri != want.uri {
            fields.push("uri");
        }
        if self.identity_sources != want.identity_sources {
            fields.push("identity_sources");
        }
        if self.name != want.name {
            fields.push("name");
        }
        fields
    }
}

pub async fn get_authorizer(
    clients: &Clients,
    api: &str,
    id: &str,
) -> Result<Option<Authorizer>, AwsError> {
    let out = clients
        .apigateway
        .get_authorizer()
        .api_id(api)
        .authorizer_id(id)
        .send()
        .await
        .found("apigateway:GetAuthorizer", clients)?;
    Ok(out.map(|a| Authorizer {
        id: a.authorizer_id().unwrap_or(id).to_owned(),
        name: a.name().unwrap_or_default().to_owned(),
        kind: a
            .authorizer_type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        uri: a.authorizer_uri().unwrap_or_default().to_owned(),
        identity_sources: a.identity_source().to_vec(),
    }))
}

pub async fn create_authorizer(
    clients: &Clients,
    api: &str,
    spec: &AuthorizerSpec<'_>,
) -> Result<String, AwsError> {
    let out = clients
        .apigateway
        .create_authorizer()
        .api_id(api)
        .name(spec.name)
        .authorizer_type(AuthorizerType::Request)
        .authorizer_uri(spec.uri)
        .set_identity_source(Some(spec.identity_sources.to_vec()))
        .send()
        .await
        .aws("apigateway:CreateAuthorizer", clients)?;
    Ok(out.authorizer_id().unwrap_or_default().to_owned())
}

pub async fn update_authorizer(
    clients: &Clients,
    api: &str,
    id: &str,
    spec: &AuthorizerSpec<'_>,
) -> Result<(), AwsError> {
    clients
        .apigateway
        .update_authorizer()
        .api_id(api)
        .authorizer_id(id)
        .name(spec.name)
        .authorizer_type(AuthorizerType::Request)
        .authorizer_uri(spec.uri)
        .set_identity_source(Some(spec.identity_sources.to_vec()))
        .send()
        .await
        .aws("apigateway:UpdateAuthorizer", clients)?;
    Ok(())
}

pub async fn delete_authorizer(clients: &Clients, api: &str, id: &str) -> Result<(), AwsError> {
    clients
        .apigateway
        .delete_authorizer()
        .api_id(api)
        .authorizer_id(id)
        .send()
        .await
        .found("apigateway:DeleteAuthorizer", clients)?;
    Ok(())
}

/// Puts `$connect` behind the authorizer (`CUSTOM`), or takes it off (`NONE`).
pub async fn set_route_authorizer(
    clients: &Clients,
    api: &str,
    route: &str,
    authorizer: Option<&str>,
) -> Result<(), AwsError> {
    let request = clients
        .apigateway
        .update_route()
        .api_id(api)
        .route_id(route);
    let request = match authorizer {
        Some(id) => request
            .authorization_type(AuthorizationType::Custom)
            .authorizer_id(id),
        None => request.authorization_type(AuthorizationType::None),
    };
    request
        .send()
        .await
        .aws("apigateway:UpdateRoute", clients)?;
    Ok(())
}

/// The source ARN of the authorizer's invoke permission on the function, if it has one.
pub async fn permission_source(
    clients: &Clients,
    function: &str,
) -> Result<Option<String>, AwsError> {
    lambda::statement_source(clients, function, PERMISSION_ID).await
}
