//! The `$connect` authorizer of a stage, converged like the rest: what exists (the authorizer
//! `$connect` points at, and the function's permission for it), and the changes that make it
//! match the manifest's `authorizer:` — or take it away when the manifest no longer has one.
//!
//! The authorizer is found through the `$connect` route's `AuthorizerId`: it is created and
//! attached in one step, so a stage never holds an authorizer nothing points at for long.

use crate::aws::authorizer::{self as aws, Authorizer, AuthorizerSpec};
use crate::aws::{AwsError, Clients};
use crate::desired::Desired;
use crate::names::Account;
use crate::observe::Observed;
use crate::plan::{Change, Plan, Resource};

/// What exists of the stage's authorizer.
#[derive(Clone, Debug, Default)]
pub struct ObservedAuthorizer {
    /// The authorizer `$connect` points at.
    pub authorizer: Option<Authorizer>,
    /// The source ARN of the function's permission for it.
    pub permission_source: Option<String>,
}

/// `AuthorizationType` of an authorized route.
pub const CUSTOM: &str = "CUSTOM";

/// Reads the authorizer `$connect` points at and the function's permission for it.
pub async fn observe(
    clients: &Clients,
    observed: &Observed,
) -> Result<ObservedAuthorizer, AwsError> {
    let connect = observed.routes.iter().find(|r| r.key == "$connect");
    let authorizer = match (
        &observed.api,
        connect.and_then(|r| r.authorizer_id.as_deref()),
    ) {
        (Some(api), Some(id)) if !id.is_empty() => {
            aws::get_authorizer(clients, &api.id, id).await?
        }
        _ => None,
    };
    let permission_source = match &observed.function {
        Some(function) => aws::permission_source(clients, &function.name).await?,
        None => None,
    };
    Ok(ObservedAuthorizer {
        authorizer,
        permission_source,
    })
}

/// The authorizer's name: the API's, with `-connect`.
pub fn name(desired: &Desired) -> String {
    format!("{}-connect", desired.names.api)
}

/// What the authorizer should be, once the account is known.
pub fn spec<'a>(desired: &'a Desired, name: &'a str, uri: &'a str) -> Option<AuthorizerSpec<'a>> {
    desired.authorizer.as_ref().map(|sources| AuthorizerSpec {
        name,
        uri,
        identity_sources: sources,
    })
}

/// `arn:…:execute-api:{region}:{account}:{apiId}/authorizers/{authorizerId}`.
pub fn source_arn(account: &Account, region: &str, api: &str, authorizer: &str) -> String {
    format!("{}/authorizers/{authorizer}", account.api_arn(region, api))
}

/// The authorizer's changes, after the routes (`$connect` exists by then).
pub fn plan(desired: &Desired, observed: &Observed, plan: &mut Plan) {
    let names = &desired.names;
    let current = &observed.authorizer;
    let account = observed.account();
    let connect = observed
        .routes
        .iter()
        .find(|r| r.key == "$connect" && observed.api.is_some());
    let existing = current.authorizer.as_ref();
    let id = existing.map(|a| a.id.clone());
    match &desired.authorizer {
        Some(_) => {
            let name = name(desired);
            let uri = account
                .as_ref()
                .map(|a| a.integration_uri(&names.region, &names.function))
                .unwrap_or_default();
            let want = spec(desired, &name, &uri).expect("an authorizer is wanted");
            match existing {
                None => plan.push(Change::create(Resource::Authorizer { id: None })),
                Some(found) => {
                    let fields = found.differences(&want);
                    if !fields.is_empty() {
                        plan.push(Change::update(Resource::Authorizer { id }, fields));
                    }
                }
            }
            let attached = existing.is_some()
                && connect.is_some_and(|route| {
                    route.authorization_type.as_deref() == Some(CUSTOM)
                        && route.authorizer_id == existing.map(|a| a.id.clone())
                });
            // A new authorizer is attached as it is created.
            if existing.is_some() && !attached {
                plan.push(Change::update(
                    Resource::ConnectAuthorization,
                    vec!["authorizer"],
                ));
            }
            let want_source = match (&account, &observed.api, existing) {
                (Some(account), Some(api), Some(found)) => {
                    Some(source_arn(account, &names.region, &api.id, &found.id))
                }
                _ => None,
            };
            match (&current.permission_source, &want_source, &observed.function) {
                (Some(have), Some(want), Some(_)) if have == want => {}
                (Some(_), _, Some(_)) => plan.push(Change::update(
                    Resource::AuthorizerPermission,
                    vec!["source_arn"],
                )),
                _ => plan.push(Change::create(Resource::AuthorizerPermission)),
            }
        }
        None => {
            let attached = connect.is_some_and(|route| {
                route.authorization_type.as_deref() == Some(CUSTOM)
                    || route
                        .authorizer_id
                        .as_deref()
                        .is_some_and(|id| !id.is_empty())
            });
            if attached {
                plan.push(Change::update(
                    Resource::ConnectAuthorization,
                    vec!["authorizer"],
                ));
            }
            if existing.is_some() {
                plan.push(Change::delete(Resource::Authorizer { id }));
            }
            if current.permission_source.is_some() && observed.function.is_some() {
                plan.push(Change::delete(Resource::AuthorizerPermission));
            }
        }
    }
}
