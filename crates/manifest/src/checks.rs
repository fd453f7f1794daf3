//! What each scalar of the manifest may be: resolved text in, typed value or (message, help) out.
//!
//! Naming rules shared with the command line live in [`super::names`].

use std::path::PathBuf;

use super::names;
use super::read::Scope;
use super::Architecture;

pub(crate) type Checked<T> = Result<T, (String, String)>;

pub(crate) fn text(s: &str, _: &Scope) -> Checked<String> {
    Ok(s.to_string())
}

/// A service name that also leaves room for resource suffixes with the stage it resolves for.
pub(crate) fn service_name(s: &str, scope: &Scope) -> Checked<String> {
    names::check_service(s)?;
    if scope.active {
        names::check_prefix(s, scope.stage)?;
    }
    Ok(s.to_string())
}

pub(crate) fn stage_name(s: &str, _: &Scope) -> Checked<String> {
    names::check_stage(s)?;
    Ok(s.to_string())
}

pub(crate) fn region(s: &str, _: &Scope) -> Checked<String> {
    names::check_region(s)?;
    Ok(s.to_string())
}

pub(crate) fn memory(s: &str, _: &Scope) -> Checked<u32> {
    bounded(
        s,
        "memory",
        128,
        10240,
        "MB",
        "Lambda accepts 128 to 10240 MB, e.g. `memory: 512`",
    )
}

pub(crate) fn flag(s: &str, _: &Scope) -> Checked<bool> {
    match s.trim() {
        "true" | "yes" | "on" => Ok(true),
        "false" | "no" | "off" => Ok(false),
        other => Err((
            format!("`{other}` is not true or false"),
            "write `true` or `false`".to_string(),
        )),
    }
}

/// The registry's record lifetime: at least a minute, at most a week (API Gateway closes every
/// connection after 2 hours, so anything above that only keeps stale records longer).
pub(crate) fn registry_ttl(s: &str, _: &Scope) -> Checked<u32> {
    bounded(
        s,
        "ttl",
        60,
        604_800,
        "seconds",
        "a connection lives at most 2 hours on API Gateway; the default is 10800 (3 hours)",
    )
}

/// The retention periods CloudWatch Logs accepts (`PutRetentionPolicy`), in days.
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

pub(crate) fn log_retention(s: &str, _: &Scope) -> Checked<u32> {
    let allowed = || {
        let days: Vec<String> = LOG_RETENTION_DAYS.iter().map(u32::to_string).collect();
        format!(
            "CloudWatch Logs keeps records 1, 3, 5, 7, 14, 30, ... days: one of {}",
            days.join(", ")
        )
    };
    match s.trim().parse::<u32>() {
        Ok(days) if LOG_RETENTION_DAYS.contains(&days) => Ok(days),
        Ok(days) => Err((
            format!("logRetention {days} is not a retention CloudWatch Logs offers"),
            allowed(),
        )),
        Err(_) => Err((
            format!("logRetention must be a number of days, not `{s}`"),
            allowed(),
        )),
    }
}

/// Concurrent executions set aside for the function (0 stops it from running at all).
pub(crate) fn reserved_concurrency(s: &str, _: &Scope) -> Checked<u32> {
    bounded(
        s,
        "reservedConcurrency",
        0,
        1_000_000,
        "executions",
        "an integer, 0 or more, within the account's concurrency quota (1000 by default), e.g. `reservedConcurrency: 10`",
    )
}

pub(crate) fn timeout(s: &str, _: &Scope) -> Checked<u32> {
    bounded(
        s,
        "timeout",
        1,
        900,
        "seconds",
        "Lambda accepts 1 to 900 seconds, e.g. `timeout: 10`",
    )
}

fn bounded(s: &str, what: &str, min: u32, max: u32, unit: &str, help: &str) -> Checked<u32> {
    match s.trim().parse::<i64>() {
        Ok(v) if (min as i64..=max as i64).contains(&v) => Ok(v as u32),
        Ok(v) => Err((
            format!("{what} {v} is out of range ({min} to {max} {unit})"),
            help.to_string(),
        )),
        Err(_) => Err((
            format!("{what} must be a whole number of {unit}, not `{s}`"),
            help.to_string(),
        )),
    }
}

pub(crate) fn architecture(s: &str, _: &Scope) -> Checked<Architecture> {
    match s {
        "arm64" | "aarch64" => Ok(Architecture::Arm64),
        "x86_64" | "amd64" | "x86-64" => Ok(Architecture::X86_64),
        other => Err((
            format!("unknown architecture `{other}`"),
            "use `arm64` (Graviton, the default: cheaper per ms) or `x86_64`".to_string(),
        )),
    }
}

/// The handler crate's folder, relative to the manifest.
pub(crate) fn code(s: &str, scope: &Scope) -> Checked<PathBuf> {
    let path = scope.dir.join(s);
    if !path.is_dir() {
        return Err((
            format!("code folder `{s}` does not exist ({})", path.display()),
            "point `code` at the handler crate's folder (the one holding its Cargo.toml), relative to the manifest".to_string(),
        ));
    }
    if !path.join("Cargo.toml").is_file() {
        return Err((
            format!("code folder `{s}` has no Cargo.toml"),
            "`code` is the handler crate's folder; create the crate there with `socket init` or `cargo new`".to_string(),
        ));
    }
    Ok(path)
}

pub(crate) fn route_selection(s: &str, _: &Scope) -> Checked<String> {
    if s.starts_with("$request.body.") || (s.starts_with("${request.body.") && s.ends_with('}')) {
        return Ok(s.to_string());
    }
    Err((
        format!("`{s}` is not a WebSocket route selection expression"),
        "WebSocket APIs select routes from the message body: `$request.body.route` (the default) or e.g. `$request.body.action`".to_string(),
    ))
}

pub(crate) fn route(s: &str, _: &Scope) -> Checked<String> {
    names::check_route(s)?;
    Ok(s.to_string())
}

/// `component:` must name this component; a version suffix (`@serverless/socket@1.0`) is ignored.
pub(crate) fn component(s: &str, _: &Scope) -> Checked<()> {
    let base = match s.strip_prefix('@') {
        Some(rest) => format!("@{}", rest.split('@').next().unwrap_or(rest)),
        None => s.split('@').next().unwrap_or(s).to_string(),
    };
    match base.as_str() {
        "@serverless/socket" | "socket" => Ok(()),
        _ => Err((
            format!("component `{s}` is not socket"),
            "this tool deploys `component: \"@serverless/socket\"` (or `\"socket\"`)".to_string(),
        )),
    }
}
