//! `iamRoleStatements:` — IAM statements the function's role gets besides what `socket` grants
//! itself, so handlers can use other AWS services (named as in the Serverless Framework, with
//! lower-case `effect`, `actions` and `resources`).

use super::read::{Check, Field, Key, Scope};
use super::ManifestError;

/// One statement of the function's policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub effect: Effect,
    /// `service:Action` names, wildcards allowed (`s3:Get*`, `*`).
    pub actions: Vec<String>,
    /// ARNs (wildcards allowed) or `*`.
    pub resources: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    /// As IAM writes it.
    pub fn as_iam(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// A statement as read, before its required keys are known to be there.
#[derive(Default)]
struct StatementInput {
    effect: Option<Effect>,
    actions: Vec<String>,
    resources: Vec<String>,
}

const STATEMENT_KEYS: &[Key<StatementInput>] = &[
    Key::new("effect", |s: &mut StatementInput, f| {
        if let Some(effect) = f.scalar("`Allow` or `Deny`", effect)? {
            s.effect = Some(effect);
        }
        Ok(())
    })
    .required(),
    Key::new("actions", |s: &mut StatementInput, f| {
        s.actions = list(f, "an action such as `s3:GetObject`", action)?;
        Ok(())
    })
    .required(),
    Key::new("resources", |s: &mut StatementInput, f| {
        s.resources = list(f, "a resource ARN or `*`", resource)?;
        Ok(())
    })
    .required(),
];

pub(crate) const EXPECTING: &str =
    "a list of statements such as `- effect: Allow` with `actions: [s3:GetObject]` and `resources: [arn:aws:s3:::bucket/*]`";

/// Reads the list of statements.
pub(crate) fn read(field: &Field) -> Result<Vec<Statement>, ManifestError> {
    let mut statements = Vec::new();
    for item in field.items().map_err(|_| field.invalid_type(EXPECTING))? {
        let mut input = StatementInput::default();
        item.block(
            STATEMENT_KEYS,
            &mut input,
            "a statement with `effect`, `actions` and `resources`",
        )?;
        // Unresolvable values inside another stage's block leave parts unset: skip it there.
        if let Some(effect) = input.effect {
            statements.push(Statement {
                effect,
                actions: input.actions,
                resources: input.resources,
            });
        }
    }
    Ok(statements)
}

/// A non-empty list of checked scalars (a single scalar counts as a list of one).
fn list(
    field: &Field,
    expecting: &str,
    check: Check<String>,
) -> Result<Vec<String>, ManifestError> {
    let items = match field.items() {
        Ok(items) => items,
        Err(_) => vec![field.clone()],
    };
    if items.is_empty() {
        return Err(field.error(
            "the list is empty",
            Some(format!("name at least one: {expecting}")),
        ));
    }
    let mut values = Vec::new();
    for item in items {
        values.extend(item.scalar(expecting, check)?);
    }
    Ok(values)
}

fn effect(s: &str, _: &Scope) -> Result<Effect, (String, String)> {
    match s {
        "Allow" | "allow" => Ok(Effect::Allow),
        "Deny" | "deny" => Ok(Effect::Deny),
        other => Err((
            format!("`{other}` is not an IAM effect"),
            "write `effect: Allow` or `effect: Deny`".into(),
        )),
    }
}

/// `*`, or `service:Action` where the action may hold wildcards.
fn action(s: &str, _: &Scope) -> Result<String, (String, String)> {
    let valid = s == "*"
        || s.split_once(':').is_some_and(|(service, name)| {
            !service.is_empty()
                && service
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
        });
    if valid {
        return Ok(s.to_string());
    }
    Err((
        format!("`{s}` is not an IAM action"),
        "write `service:Action`, e.g. `s3:GetObject`, `dynamodb:*` or `sqs:Send*`".into(),
    ))
}

/// `*`, or an ARN (wildcards allowed).
fn resource(s: &str, _: &Scope) -> Result<String, (String, String)> {
    if s == "*" || (s.starts_with("arn:") && s.split(':').count() >= 6) {
        return Ok(s.to_string());
    }
    Err((
        format!("`{s}` is not a resource ARN"),
        "write an ARN such as `arn:aws:s3:::my-bucket/*` (wildcards allowed), or `*`".into(),
    ))
}
