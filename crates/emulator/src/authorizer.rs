//! The `$connect` authorizer, run as API Gateway runs a Lambda REQUEST authorizer: a handshake
//! without every identity source is refused with 401 without invoking anything; otherwise the
//! function gets the authorizer event and its policy decides: Allow connects (its context goes
//! into `requestContext.authorizer` of every event of the connection), Deny refuses with 403
//! before `$connect`, and an error, a timeout or an answer that is not a valid policy with 500.

use http::StatusCode;
use serde_json::{Map, Value};
use socket_protocol::authorizer::{self, Decision, IdentitySource};
use socket_protocol::events::EventContext;

use super::gateway::Gateway;
use super::invocation::Outcome;
use super::output;

/// The manifest's `authorizer:`, ready to check handshakes against.
#[derive(Clone, Debug)]
pub struct ConnectAuthorizer {
    pub identity_sources: Vec<(String, IdentitySource)>,
    /// The `methodArn` the local API's `$connect` has.
    pub method_arn: String,
}

impl ConnectAuthorizer {
    pub fn new(manifest: &socket_manifest::Manifest, api_id: &str) -> Option<Self> {
        let config = manifest.authorizer.as_ref()?;
        Some(Self {
            identity_sources: config
                .identity_sources
                .iter()
                .filter_map(|text| Some((text.clone(), IdentitySource::parse(text)?)))
                .collect(),
            method_arn: authorizer::connect_method_arn(
                "aws",
                &manifest.region,
                "000000000000",
                api_id,
                &manifest.stage,
            ),
        })
    }
}

/// What the authorizer decided for a handshake.
pub enum Verdict {
    /// Connect; this is `requestContext.authorizer`.
    Allow(Map<String, Value>),
    /// Refuse the handshake with this status; `$connect` does not run.
    Refuse(StatusCode),
}

/// Runs the authorizer for a handshake of `context` with these headers and query.
pub async fn authorize(
    gateway: &Gateway,
    config: &ConnectAuthorizer,
    context: &EventContext,
    headers: &[(String, String)],
    query: &[(String, String)],
) -> Verdict {
    let id = &context.connection_id;
    if let Some((missing, _)) = config
        .identity_sources
        .iter()
        .find(|(_, source)| !source.present_in(headers, query))
    {
        output::line(
            "gateway",
            &format!("{id} refused with 401: the handshake has no {missing} (an identity source of the authorizer)"),
        );
        return Verdict::Refuse(StatusCode::UNAUTHORIZED);
    }
    let event = authorizer::request_event(context, headers, query, &config.method_arn);
    let failed = |why: String| {
        output::line(
            "gateway",
            &format!("{id} refused with 500: the authorizer failed: {why}"),
        );
        Verdict::Refuse(StatusCode::INTERNAL_SERVER_ERROR)
    };
    let body = match gateway.invoke(&event, "authorizer", id).await {
        Outcome::Response(body) => body,
        Outcome::Failed(failure) => return failed(failure.to_string()),
    };
    let answer = match serde_json::from_slice::<Value>(&body) {
        Ok(answer) => answer,
        Err(error) => return failed(format!("its answer is not JSON ({error})")),
    };
    match authorizer::decide(&answer, &config.method_arn) {
        Ok(Decision::Allow(context)) => Verdict::Allow(context),
        Ok(Decision::Deny) => {
            output::line(
                "gateway",
                &format!("{id} refused with 403: the authorizer denied it"),
            );
            Verdict::Refuse(StatusCode::FORBIDDEN)
        }
        Err(why) => failed(why),
    }
}
