//! One structured line per invocation on stdout (CloudWatch on AWS, `socket dev`'s output
//! locally): route, connection id, request id, outcome and duration, in the form
//! `AWS_LAMBDA_LOG_FORMAT` asks for. `socket logs --route/--connection` filter on these fields.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Instant;

use socket_protocol::invocation_log::{json_format, Invocation, Outcome};

/// The route as a person names it: `$connect`, `$disconnect`, `$default`, or the message route.
pub(crate) fn route_label(handler: &str) -> String {
    match handler {
        "connect" | "disconnect" | "default" => format!("${handler}"),
        other => other.to_string(),
    }
}

/// Writes the invocation's line.
pub(crate) fn write(
    route: String,
    connection_id: &str,
    request_id: &str,
    outcome: Outcome,
    started: Instant,
) {
    static JSON: OnceLock<bool> = OnceLock::new();
    let json =
        *JSON.get_or_init(|| json_format(std::env::var("AWS_LAMBDA_LOG_FORMAT").ok().as_deref()));
    let record = Invocation {
        route,
        connection_id: connection_id.to_string(),
        request_id: request_id.to_string(),
        outcome,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
    };
    // The whole line is written under stdout's lock, so concurrent output never splits it;
    // `println!` rather than a raw write so test harnesses capture it.
    println!("{}", record.line(json));
    let _ = std::io::stdout().flush();
}
