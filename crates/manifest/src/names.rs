//! AWS naming rules for what the manifest names, checked before any AWS call.
//!
//! Every resource is named `{service}-{stage}` plus a short suffix (`-role`, `-ws`, ...). Lambda
//! function and IAM role names allow at most 64 characters of `[A-Za-z0-9-_]`, so the prefix is
//! kept within [`MAX_PREFIX`], leaving [`SUFFIX_BUDGET`] characters for suffixes.

/// Characters reserved for suffixes after `{service}-{stage}`.
pub const SUFFIX_BUDGET: usize = 12;
/// Longest `{service}-{stage}`.
pub const MAX_PREFIX: usize = 64 - SUFFIX_BUDGET;

type Check = Result<(), (String, String)>;

/// The connection registry's DynamoDB table of a stage: `{service}-{stage}-connections`.
pub fn registry_table(service: &str, stage: &str) -> String {
    format!("{service}-{stage}-connections")
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

pub fn check_service(s: &str) -> Check {
    if s.is_empty()
        || !s.starts_with(|c: char| c.is_ascii_alphabetic())
        || !s.chars().all(is_name_char)
    {
        return Err((
            format!("service name `{s}` cannot name AWS resources"),
            "use letters, digits, `-` and `_`, starting with a letter, e.g. `my-socket`"
                .to_string(),
        ));
    }
    Ok(())
}

pub fn check_stage(s: &str) -> Check {
    if s.is_empty() || !s.chars().all(is_name_char) {
        return Err((
            format!("stage name `{s}` cannot name AWS resources"),
            "use letters, digits, `-` and `_`, e.g. `dev` or `prod`".to_string(),
        ));
    }
    Ok(())
}

/// `{service}-{stage}` must leave room for resource suffixes within AWS's 64-character limits.
pub fn check_prefix(service: &str, stage: &str) -> Check {
    let prefix = format!("{service}-{stage}");
    if prefix.len() > MAX_PREFIX {
        return Err((
            format!(
                "`{prefix}` is {} characters: resource names built from it would exceed AWS's 64-character limit",
                prefix.len()
            ),
            format!(
                "shorten the service name or the stage so that `{{name}}-{{stage}}` has at most {MAX_PREFIX} characters"
            ),
        ));
    }
    Ok(())
}

pub fn check_region(s: &str) -> Check {
    // e.g. us-east-1, eu-central-2, ap-southeast-4, us-gov-west-1, cn-north-1.
    let parts: Vec<&str> = s.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if !ok {
        return Err((
            format!("`{s}` is not an AWS region"),
            "use a region code such as `us-east-1` or `eu-west-1`".to_string(),
        ));
    }
    Ok(())
}

/// Lambda's environment names: a letter, then letters, digits and `_`; AWS's own are reserved.
pub fn check_env_name(s: &str) -> Check {
    const RESERVED: &[&str] = &[
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    ];
    let valid = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err((
            format!("`{s}` is not a valid environment variable name"),
            "use a letter followed by letters, digits and `_`, e.g. `TABLE_NAME`".to_string(),
        ));
    }
    if RESERVED.contains(&s) || s.starts_with("AWS_LAMBDA_") {
        return Err((
            format!("`{s}` is reserved by Lambda"),
            "Lambda sets it itself; choose another name".to_string(),
        ));
    }
    Ok(())
}

pub fn check_route(s: &str) -> Check {
    if s.starts_with('$') || matches!(s, "connect" | "disconnect" | "default") {
        return Err((
            format!("`{s}` is always routed"),
            "$connect, $disconnect and $default exist on every API; list only your own routes, e.g. `message`".to_string(),
        ));
    }
    if s.is_empty() || s.len() > 128 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err((
            format!("route `{s}` is not a valid route key"),
            "use 1 to 128 characters without spaces, e.g. `message`".to_string(),
        ));
    }
    Ok(())
}
