//! The one structured line the runtime writes per invocation, and reading it back.
//!
//! Written by the runtime (to CloudWatch on AWS, to `socket dev`'s output locally) and read by
//! `socket logs`, so both sides share this file. Two forms, as Lambda's log format says
//! (`AWS_LAMBDA_LOG_FORMAT`):
//!
//! - text: `socket invocation route=$connect connection=abc= request=r-1 status=200 ms=1.2`
//!   (an error reads `error="…"` in place of `status=`);
//! - JSON: `{"type":"socket.invocation","route":"$connect","connectionId":"abc=",…}`.
//!
//! Other lines (the handler's own logs) are read for the `route=`/`connection_id=` fields the
//! runtime's tracing span adds to them, so `socket logs --connection` finds them too.

use serde_json::{json, Value};

/// The first words of a text record.
pub const TEXT_PREFIX: &str = "socket invocation ";
/// `type` of a JSON record.
pub const JSON_TYPE: &str = "socket.invocation";

/// How an invocation ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The response's status code.
    Status(u16),
    /// The function failed (a handler error or panic): no response.
    Error(String),
}

/// One invocation, as the runtime reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    /// `$connect`, `$disconnect`, `$default` or the handler's route name.
    pub route: String,
    pub connection_id: String,
    pub request_id: String,
    pub outcome: Outcome,
    pub duration_ms: f64,
}

/// Whether Lambda's log format asks for JSON (`AWS_LAMBDA_LOG_FORMAT=JSON`, any case).
pub fn json_format(log_format: Option<&str>) -> bool {
    log_format.is_some_and(|f| f.eq_ignore_ascii_case("json"))
}

impl Invocation {
    /// The text form (see the module documentation).
    pub fn to_text(&self) -> String {
        let outcome = match &self.outcome {
            Outcome::Status(status) => format!("status={status}"),
            Outcome::Error(message) => format!("error={}", quoted(message)),
        };
        format!(
            "{TEXT_PREFIX}route={} connection={} request={} {outcome} ms={:.1}",
            self.route, self.connection_id, self.request_id, self.duration_ms
        )
    }

    /// The JSON form: one object, with Lambda's `level` and `message` beside the fields.
    pub fn to_json(&self) -> Value {
        let mut value = json!({
            "level": "INFO",
            "type": JSON_TYPE,
            "message": "invocation",
            "route": self.route,
            "connectionId": self.connection_id,
            "requestId": self.request_id,
            "durationMs": (self.duration_ms * 10.0).round() / 10.0,
        });
        match &self.outcome {
            Outcome::Status(status) => value["status"] = json!(status),
            Outcome::Error(message) => value["error"] = json!(message),
        }
        value
    }

    /// The line in the form `AWS_LAMBDA_LOG_FORMAT` asks for.
    pub fn line(&self, json: bool) -> String {
        if json {
            self.to_json().to_string()
        } else {
            self.to_text()
        }
    }

    /// Reads a record in either form; `None` for any other line.
    pub fn parse(line: &str) -> Option<Invocation> {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix(TEXT_PREFIX) {
            return Self::parse_text(rest);
        }
        let value: Value = serde_json::from_str(line).ok()?;
        if value["type"] != JSON_TYPE {
            return None;
        }
        let text = |key: &str| value[key].as_str().map(str::to_owned);
        let outcome = match (value["status"].as_u64(), text("error")) {
            (Some(status), _) => Outcome::Status(u16::try_from(status).ok()?),
            (None, Some(message)) => Outcome::Error(message),
            (None, None) => return None,
        };
        Some(Invocation {
            route: text("route")?,
            connection_id: text("connectionId")?,
            request_id: text("requestId").unwrap_or_default(),
            outcome,
            duration_ms: value["durationMs"].as_f64().unwrap_or_default(),
        })
    }

    fn parse_text(fields: &str) -> Option<Invocation> {
        let route = field(fields, "route")?;
        let connection_id = field(fields, "connection")?;
        let outcome = match (field(fields, "status"), field(fields, "error")) {
            (Some(status), _) => Outcome::Status(status.parse().ok()?),
            (None, Some(message)) => Outcome::Error(message),
            (None, None) => return None,
        };
        Some(Invocation {
            route,
            connection_id,
            request_id: field(fields, "request").unwrap_or_default(),
            outcome,
            duration_ms: field(fields, "ms")
                .and_then(|ms| ms.parse().ok())
                .unwrap_or_default(),
        })
    }
}

/// The route and connection id a log line is about: from an invocation record, else from the
/// runtime's tracing span on a handler's line (`socket{route=echo connection_id=abc=}` in text,
/// `"span":{"route":…,"connection_id":…}` in JSON). Either may be unknown.
pub fn route_and_connection(line: &str) -> (Option<String>, Option<String>) {
    if let Some(record) = Invocation::parse(line) {
        return (Some(record.route), Some(record.connection_id));
    }
    if let Ok(value) = serde_json::from_str::<Value>(line.trim()) {
        let span = &value["span"];
        let text = |key: &str| span[key].as_str().map(str::to_owned);
        return (text("route"), text("connection_id"));
    }
    (field(line, "route"), field(line, "connection_id"))
}

/// The value of ` key=value` in a line of `key=value` fields; a value may be `"quoted"`.
fn field(line: &str, key: &str) -> Option<String> {
    let pattern = format!("{key}=");
    let mut search = 0;
    while let Some(found) = line[search..].find(&pattern) {
        let start = search + found;
        let after_separator = start == 0 || {
            let before = line[..start].chars().next_back();
            matches!(before, Some(' ' | '{' | ','))
        };
        let value = &line[start + pattern.len()..];
        if after_separator {
            return Some(match value.strip_prefix('"') {
                Some(quoted) => unquote(quoted),
                None => value
                    .split([' ', '}', ','])
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        search = start + pattern.len();
    }
    None
}

fn quoted(message: &str) -> String {
    let escaped = message
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

/// The inside of a quoted value, up to its closing quote.
fn unquote(rest: &str) -> String {
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => break,
            },
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(outcome: Outcome) -> Invocation {
        Invocation {
            route: "$connect".into(),
            connection_id: "abc=".into(),
            request_id: "r-1".into(),
            outcome,
            duration_ms: 1.25,
        }
    }

    #[test]
    fn text_records_read_back() {
        let ok = record(Outcome::Status(200));
        assert_eq!(
            ok.to_text(),
            "socket invocation route=$connect connection=abc= request=r-1 status=200 ms=1.2"
        );
        let failed = record(Outcome::Error(
            "the `connect` handler failed: \"no\"".into(),
        ));
        for r in [ok, failed] {
            let back = Invocation::parse(&r.to_text()).unwrap();
            assert_eq!(back.outcome, r.outcome);
            assert_eq!(back.route, r.route);
            assert_eq!(back.connection_id, r.connection_id);
            assert_eq!(back.request_id, r.request_id);
        }
    }

    #[test]
    fn json_records_read_back() {
        let r = record(Outcome::Status(403));
        let line = r.line(true);
        assert!(line.contains("\"type\":\"socket.invocation\""), "{line}");
        let back = Invocation::parse(&line).unwrap();
        assert_eq!(back.outcome, Outcome::Status(403));
        assert_eq!(back.connection_id, "abc=");
        assert_eq!(Invocation::parse(r#"{"message":"hello"}"#), None);
        assert_eq!(Invocation::parse("START RequestId: x"), None);
    }

    #[test]
    fn handler_lines_carry_the_span_fields() {
        let text = "INFO socket{route=echo connection_id=abc=}: echo: got it";
        assert_eq!(
            route_and_connection(text),
            (Some("echo".into()), Some("abc=".into()))
        );
        let json = r#"{"level":"INFO","span":{"route":"echo","connection_id":"x="},"fields":{}}"#;
        assert_eq!(
            route_and_connection(json),
            (Some("echo".into()), Some("x=".into()))
        );
        assert_eq!(route_and_connection("REPORT RequestId: 1"), (None, None));
        // `myroute=` is not `route=`.
        assert_eq!(field("myroute=a route=b", "route").as_deref(), Some("b"));
    }

    #[test]
    fn the_log_format_is_read_in_any_case() {
        assert!(json_format(Some("JSON")));
        assert!(json_format(Some("json")));
        assert!(!json_format(Some("Text")));
        assert!(!json_format(None));
    }
}
