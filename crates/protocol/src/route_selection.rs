//! The route selection expression: which field of a message names its route.
//!
//! API Gateway evaluates the WebSocket API's route selection expression against every message;
//! the runtime (for `$default` events) and the local emulator apply this same function so a
//! message is routed identically everywhere.

use serde_json::Value;

use crate::env::ROUTE_SELECTION as ROUTE_SELECTION_ENV;

/// The expression used when [`ROUTE_SELECTION_ENV`] is unset: clients send `{"route": "...", "data": ...}`.
pub const DEFAULT_ROUTE_SELECTION: &str = "$request.body.route";

/// The expression in effect: [`ROUTE_SELECTION_ENV`] if set and non-empty, else [`DEFAULT_ROUTE_SELECTION`].
pub fn route_selection_expression() -> String {
    std::env::var(ROUTE_SELECTION_ENV)
        .ok()
        .filter(|value| !value.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ROUTE_SELECTION.to_string())
}

/// Evaluates `expression` (`$request.body.<field>` with dotted paths, e.g.
/// `$request.body.meta.action`) against a message body.
///
/// Returns the selected route when the body is a JSON object and the field holds a string (or a
/// number or boolean, rendered as text). Returns `None` for non-JSON bodies, missing fields, other
/// value types and expressions that do not start with `$request.body.` — such messages go to
/// `$default`, as on API Gateway.
pub fn select_route(expression: &str, body: &str) -> Option<String> {
    let path = expression.trim().strip_prefix("$request.body.")?;
    if path.is_empty() {
        return None;
    }
    let json: Value = serde_json::from_str(body).ok()?;
    select_route_in(path, &json)
}

/// Like [`select_route`] for a body that is already parsed; `path` is the part after `$request.body.`.
pub fn select_route_in(path: &str, json: &Value) -> Option<String> {
    let mut current = json;
    for segment in path.split('.') {
        current = current.as_object()?.get(segment)?;
    }
    match current {
        Value::String(route) => Some(route.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_top_level_field() {
        let body = r#"{"route":"echo","data":1}"#;
        assert_eq!(
            select_route(DEFAULT_ROUTE_SELECTION, body).as_deref(),
            Some("echo")
        );
        assert_eq!(
            select_route("$request.body.action", r#"{"action":"send"}"#).as_deref(),
            Some("send")
        );
    }

    #[test]
    fn selects_nested_field() {
        let body = r#"{"meta":{"kind":{"name":"join"}}}"#;
        assert_eq!(
            select_route("$request.body.meta.kind.name", body).as_deref(),
            Some("join")
        );
    }

    #[test]
    fn no_route_for_missing_field_non_json_or_odd_expression() {
        assert_eq!(select_route(DEFAULT_ROUTE_SELECTION, r#"{"data":1}"#), None);
        assert_eq!(select_route(DEFAULT_ROUTE_SELECTION, "hello"), None);
        assert_eq!(
            select_route(DEFAULT_ROUTE_SELECTION, r#"{"route":{"x":1}}"#),
            None
        );
        assert_eq!(select_route("$request.header.x", r#"{"route":"a"}"#), None);
        assert_eq!(select_route("$request.body.", r#"{"route":"a"}"#), None);
    }

    #[test]
    fn numbers_and_booleans_render_as_text() {
        assert_eq!(
            select_route(DEFAULT_ROUTE_SELECTION, r#"{"route":7}"#).as_deref(),
            Some("7")
        );
        assert_eq!(
            select_route(DEFAULT_ROUTE_SELECTION, r#"{"route":true}"#).as_deref(),
            Some("true")
        );
    }
}
