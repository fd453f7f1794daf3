//! The Lambda REQUEST authorizer of a WebSocket API's `$connect` route: the event API Gateway
//! sends the function before `$connect`, the IAM policy it answers with, and how API Gateway
//! reads that answer.
//!
//! The event is the `$connect` event's headers, query string and request context with
//! `type: "REQUEST"` and the `methodArn` of the route; unlike every proxy event it has no
//! `eventType` at its top level (only inside `requestContext`), which is how a function tells
//! the two apart ([`is_authorizer_event`]).

use serde_json::{json, Map, Value};

use crate::events::{self, EventContext};

/// `requestContext.authorizer` key API Gateway adds beside the authorizer's context.
pub const PRINCIPAL_ID: &str = "principalId";

/// The identity sources an authorizer may name: `route.request.header.<name>` and
/// `route.request.querystring.<name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentitySource {
    Header(String),
    QueryString(String),
}

impl IdentitySource {
    /// Reads `route.request.header.Authorization` or `route.request.querystring.token`.
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, name) = text
            .strip_prefix("route.request.header.")
            .map(|name| (true, name))
            .or_else(|| {
                text.strip_prefix("route.request.querystring.")
                    .map(|name| (false, name))
            })?;
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~!$&'*+^`|".contains(&b));
        match (valid, kind) {
            (false, _) => None,
            (true, true) => Some(IdentitySource::Header(name.to_string())),
            (true, false) => Some(IdentitySource::QueryString(name.to_string())),
        }
    }

    /// Whether the handshake carries this source with a non-empty value (headers compare
    /// case-insensitively, query keys exactly, as API Gateway does).
    pub fn present_in(&self, headers: &[(String, String)], query: &[(String, String)]) -> bool {
        match self {
            IdentitySource::Header(name) => headers
                .iter()
                .any(|(key, value)| key.eq_ignore_ascii_case(name) && !value.is_empty()),
            IdentitySource::QueryString(name) => query
                .iter()
                .any(|(key, value)| key == name && !value.is_empty()),
        }
    }
}

/// `arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/$connect`.
pub fn connect_method_arn(
    partition: &str,
    region: &str,
    account: &str,
    api_id: &str,
    stage: &str,
) -> String {
    format!("arn:{partition}:execute-api:{region}:{account}:{api_id}/{stage}/$connect")
}

/// The REQUEST authorizer event for a handshake, as API Gateway sends it for a WebSocket API.
pub fn request_event(
    ctx: &EventContext,
    headers: &[(String, String)],
    query: &[(String, String)],
    method_arn: &str,
) -> Value {
    let mut json = events::to_json(&events::connect(ctx, headers, query));
    if let Some(object) = json.as_object_mut() {
        object.remove("isBase64Encoded");
        object.insert("type".into(), Value::String("REQUEST".into()));
        object.insert("methodArn".into(), Value::String(method_arn.into()));
        object
            .entry("queryStringParameters")
            .or_insert_with(|| json!({}));
        object
            .entry("multiValueQueryStringParameters")
            .or_insert_with(|| json!({}));
        object.insert("stageVariables".into(), json!({}));
        if let Some(Value::Object(context)) = object.get_mut("requestContext") {
            context.remove("authorizer");
        }
    }
    json
}

/// Whether an event is a REQUEST authorizer's: `type: "REQUEST"` and a `methodArn`, and no
/// top-level `eventType`.
pub fn is_authorizer_event(event: &Value) -> bool {
    event.get("type").and_then(Value::as_str) == Some("REQUEST")
        && event.get("methodArn").is_some_and(Value::is_string)
        && event.get("eventType").is_none()
}

/// The IAM policy answer: `Allow` or `Deny` of `execute-api:Invoke` on `method_arn`, with the
/// principal and (when there is one) the context.
pub fn policy_response(
    principal_id: &str,
    allow: bool,
    method_arn: &str,
    context: Option<&Map<String, Value>>,
) -> Value {
    let mut response = json!({
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{
                "Action": "execute-api:Invoke",
                "Effect": if allow { "Allow" } else { "Deny" },
                "Resource": method_arn,
            }],
        },
    });
    if let Some(context) = context.filter(|context| !context.is_empty()) {
        response["context"] = Value::Object(context.clone());
    }
    response
}

/// What API Gateway makes of an authorizer's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Connect, with `requestContext.authorizer` for every event of the connection.
    Allow(Map<String, Value>),
    /// Refuse the handshake with 403.
    Deny,
}

/// Reads an authorizer's answer for `method_arn` as API Gateway does: allowed when a statement
/// allows `execute-api:Invoke` on the method and none denies it. `Err` (API Gateway answers 500)
/// when the answer is not a policy or its context holds anything but strings, numbers and
/// booleans.
pub fn decide(response: &Value, method_arn: &str) -> Result<Decision, String> {
    let principal = match response.get("principalId") {
        Some(Value::String(principal)) => principal.clone(),
        _ => return Err("the answer has no `principalId` string".into()),
    };
    let statements = match response.pointer("/policyDocument/Statement") {
        Some(Value::Array(statements)) => statements.clone(),
        Some(statement @ Value::Object(_)) => vec![statement.clone()],
        _ => return Err("the answer has no `policyDocument.Statement`".into()),
    };
    let applies = |statement: &Value| {
        let listed = |key: &str, matches: &dyn Fn(&str) -> bool| match statement.get(key) {
            Some(Value::String(one)) => matches(one),
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).any(matches),
            _ => false,
        };
        listed("Action", &|action| {
            glob_matches(&action.to_ascii_lowercase(), "execute-api:invoke")
        }) && listed("Resource", &|resource| glob_matches(resource, method_arn))
    };
    fn effect(statement: &Value) -> &str {
        statement
            .get("Effect")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    let denied = statements
        .iter()
        .any(|s| effect(s).eq_ignore_ascii_case("deny") && applies(s));
    let allowed = statements
        .iter()
        .any(|s| effect(s).eq_ignore_ascii_case("allow") && applies(s));
    if denied || !allowed {
        return Ok(Decision::Deny);
    }
    let mut authorizer = Map::new();
    match response.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(context)) => {
            for (key, value) in context {
                if matches!(value, Value::Object(_) | Value::Array(_)) {
                    return Err(format!(
                        "context.{key} is {}: a context value must be a string, a number or a boolean",
                        if value.is_array() { "an array" } else { "an object" }
                    ));
                }
                authorizer.insert(key.clone(), value.clone());
            }
        }
        Some(_) => return Err("`context` is not an object".into()),
    }
    authorizer.insert(PRINCIPAL_ID.into(), Value::String(principal));
    Ok(Decision::Allow(authorizer))
}

/// IAM's wildcards: `*` any run of characters, `?` one character.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/$connect";

    #[test]
    fn the_event_is_the_connect_request_with_type_and_method_arn() {
        let ctx = EventContext::new("conn=");
        let event = request_event(
            &ctx,
            &[("Authorization".into(), "Bearer x".into())],
            &[("token".into(), "t".into())],
            ARN,
        );
        assert_eq!(event["type"], "REQUEST");
        assert_eq!(event["methodArn"], ARN);
        assert_eq!(event["queryStringParameters"]["token"], "t");
        assert_eq!(event["headers"]["authorization"], "Bearer x");
        assert_eq!(event["requestContext"]["routeKey"], "$connect");
        assert_eq!(event["requestContext"]["eventType"], "CONNECT");
        assert_eq!(event["requestContext"]["connectionId"], "conn=");
        assert!(event.get("eventType").is_none());
        assert!(is_authorizer_event(&event));
        let connect = events::to_json(&events::connect(&ctx, &[], &[]));
        assert!(!is_authorizer_event(&connect));
    }

    #[test]
    fn identity_sources_are_headers_or_query_parameters() {
        let token = IdentitySource::parse("route.request.querystring.token").unwrap();
        let auth = IdentitySource::parse("route.request.header.Authorization").unwrap();
        assert_eq!(token, IdentitySource::QueryString("token".into()));
        assert!(IdentitySource::parse("route.request.body.token").is_none());
        assert!(IdentitySource::parse("route.request.header.").is_none());
        let headers = [("authorization".to_string(), "Bearer".to_string())];
        let query = [("token".to_string(), String::new())];
        assert!(auth.present_in(&headers, &query));
        assert!(
            !token.present_in(&headers, &query),
            "an empty value is missing"
        );
    }

    #[test]
    fn allow_with_context_becomes_the_request_context_authorizer() {
        let context = json!({"user": "ada", "admin": false, "level": 3});
        let response = policy_response("ada", true, ARN, context.as_object());
        assert_eq!(
            response["policyDocument"]["Statement"][0]["Action"],
            "execute-api:Invoke"
        );
        let Decision::Allow(authorizer) = decide(&response, ARN).unwrap() else {
            panic!("allowed")
        };
        assert_eq!(authorizer["principalId"], "ada");
        assert_eq!(authorizer["user"], "ada");
        assert_eq!(authorizer["level"], 3);
    }

    #[test]
    fn deny_other_resources_and_bad_answers() {
        let deny = policy_response("x", false, ARN, None);
        assert_eq!(decide(&deny, ARN).unwrap(), Decision::Deny);
        let elsewhere = policy_response(
            "x",
            true,
            "arn:aws:execute-api:us-east-1:1:other/prod/$connect",
            None,
        );
        assert_eq!(decide(&elsewhere, ARN).unwrap(), Decision::Deny);
        let wildcard = policy_response("x", true, "arn:aws:execute-api:*:*:abc123/*", None);
        assert!(matches!(
            decide(&wildcard, ARN).unwrap(),
            Decision::Allow(_)
        ));
        let nested = policy_response("x", true, ARN, json!({"user": {"id": 1}}).as_object());
        assert!(decide(&nested, ARN).unwrap_err().contains("context.user"));
        assert!(decide(&json!({"statusCode": 200}), ARN).is_err());
    }
}
