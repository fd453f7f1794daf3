//! The `$connect` authorizer in the same binary: [`AuthorizeRequest`] (the Lambda REQUEST
//! authorizer event API Gateway sends before `$connect`) and [`Authorization`] (the IAM policy
//! the function answers with).
//!
//! The manifest's `authorizer:` makes deploy put a REQUEST authorizer on `$connect` that invokes
//! this function; an allowed connection's context then reaches every event of that connection
//! as [`Socket::authorizer`](crate::Socket::authorizer).

use std::future::Future;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};
use socket_protocol::authorizer::policy_response;

use crate::error::Error;
use crate::handler::BoxFuture;

/// The handshake a `$connect` authorizer decides on: its query string, headers, the route's
/// `methodArn` and the connection being opened.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AuthorizeRequest {
    /// `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/$connect`: the resource the
    /// answer's policy allows or denies.
    pub method_arn: String,
    headers: Option<Map<String, Value>>,
    query_string_parameters: Option<Map<String, Value>>,
    multi_value_query_string_parameters: Option<Map<String, Value>>,
    request_context: RequestContext,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RequestContext {
    connection_id: String,
    api_id: String,
    stage: String,
    domain_name: String,
    request_id: String,
    identity: Identity,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Identity {
    source_ip: Option<String>,
}

impl AuthorizeRequest {
    /// A query string parameter of the WebSocket URL (the last value when repeated, as API
    /// Gateway's `queryStringParameters` has it).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query_string_parameters.as_ref()?.get(name)?.as_str()
    }

    /// Every value of a repeated query string parameter.
    pub fn query_all(&self, name: &str) -> Vec<&str> {
        match self
            .multi_value_query_string_parameters
            .as_ref()
            .and_then(|map| map.get(name))
        {
            Some(Value::Array(values)) => values.iter().filter_map(Value::as_str).collect(),
            _ => self.query(name).into_iter().collect(),
        }
    }

    /// A handshake header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .as_ref()?
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))?
            .1
            .as_str()
    }

    /// The id the connection will have if it is allowed.
    pub fn connection_id(&self) -> &str {
        &self.request_context.connection_id
    }

    /// The API id.
    pub fn api_id(&self) -> &str {
        &self.request_context.api_id
    }

    /// The API stage.
    pub fn stage(&self) -> &str {
        &self.request_context.stage
    }

    /// The domain the client connected to.
    pub fn domain_name(&self) -> &str {
        &self.request_context.domain_name
    }

    /// The API Gateway request id.
    pub fn request_id(&self) -> &str {
        &self.request_context.request_id
    }

    /// The client's IP address.
    pub fn source_ip(&self) -> Option<&str> {
        self.request_context.identity.source_ip.as_deref()
    }
}

/// An authorizer's answer: allow the connection as a principal (with a context every event of
/// the connection sees), or deny it (the client gets 403 and `connect` does not run).
#[derive(Clone, Debug, PartialEq)]
pub struct Authorization {
    principal_id: String,
    allow: bool,
    context: Map<String, Value>,
}

impl Authorization {
    /// Allow the connection as `principal_id` (`requestContext.authorizer.principalId`).
    pub fn allow(principal_id: impl Into<String>) -> Self {
        Self {
            principal_id: principal_id.into(),
            allow: true,
            context: Map::new(),
        }
    }

    /// Refuse the connection: API Gateway answers the handshake with 403.
    pub fn deny() -> Self {
        Self {
            principal_id: "anonymous".into(),
            allow: false,
            context: Map::new(),
        }
    }

    /// Adds the fields of `context` (a JSON object of strings, numbers and booleans, as API
    /// Gateway requires: a nested object or array makes it answer 500) to
    /// `requestContext.authorizer`. Anything but an object is ignored.
    pub fn with_context(mut self, context: Value) -> Self {
        if let Value::Object(fields) = context {
            self.context.extend(fields);
        }
        self
    }

    /// Whether the connection is allowed.
    pub fn is_allowed(&self) -> bool {
        self.allow
    }

    /// The IAM policy document API Gateway reads, for `method_arn`.
    pub fn into_policy(self, method_arn: &str) -> Value {
        policy_response(
            &self.principal_id,
            self.allow,
            method_arn,
            Some(&self.context),
        )
    }
}

/// A registered authorize handler.
pub(crate) type ErasedAuthorizer =
    Arc<dyn Fn(AuthorizeRequest) -> BoxFuture<Result<Authorization, Error>> + Send + Sync>;

pub(crate) fn erase<F, Fut>(handler: F) -> ErasedAuthorizer
where
    F: Fn(AuthorizeRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Authorization, Error>> + Send + 'static,
{
    Arc::new(move |request| Box::pin(handler(request)))
}
