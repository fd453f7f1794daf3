//! Every key of a component block and of its `inputs`, declared once with how it is read.
//!
//! To add a key, add a field to [`Inputs`] and a line to [`INPUT_KEYS`]; unknown-key suggestions,
//! `stages:` overrides and errors with line and column follow from the table. A key whose value is
//! itself a block gets a struct and a table of its own, read with [`Field::block`]; a key that is
//! either a flag or a block matches on the node first. For instance:
//!
//! ```text
//! #[derive(Default)]
//! struct Domain { name: Option<String>, certificate: Option<String>, base_path: Option<String> }
//!
//! const DOMAIN_KEYS: &[Key<Domain>] = &[
//!     Key::new("name", |d, f| set(&mut d.name, f.scalar("a domain name", checks::domain))).required(),
//!     Key::new("certificate", |d, f| set(&mut d.certificate, f.scalar("a certificate ARN", checks::text))),
//!     Key::new("basePath", |d, f| set(&mut d.base_path, f.scalar("a path", checks::text))),
//! ];
//!
//! // in INPUT_KEYS:
//! Key::new("domain", |i, f| {
//!     f.block(DOMAIN_KEYS, i.domain.get_or_insert_with(Default::default), "a domain block: `name`, `certificate`, `basePath`")
//! }),
//! Key::new("connections", |i, f| match &f.node.value {
//!     Value::Scalar(_) => set(&mut i.connections, f.scalar("true, false or a block", checks::flag)?.map(Connections::enabled)),
//!     _ => f.block(CONNECTION_KEYS, i.connections.get_or_insert_with(Default::default), "true, false or a block such as `ttl: 3600`"),
//! }),
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::authorizer::{self, Authorizer, AUTHORIZER_KEYS};
use super::checks;
use super::domain::{self, DomainInput, DOMAIN_KEYS};
use super::names;
use super::read::{Field, Key, Scope};
use super::statements::{self, Statement};
use super::tags;
use super::yaml::Value;
use super::{Architecture, ManifestError};

/// `inputs` as resolved for the selected stage (its `stages:` block applied over the rest).
#[derive(Debug, Default)]
pub(crate) struct Inputs {
    pub name: Option<String>,
    pub description: Option<String>,
    pub region: Option<String>,
    pub memory: Option<u32>,
    pub timeout: Option<u32>,
    pub architecture: Option<Architecture>,
    /// Merged name by name over the stages; every other key is replaced whole.
    pub env: BTreeMap<String, String>,
    pub code: Option<PathBuf>,
    pub route_selection: Option<String>,
    pub routes: Option<Vec<String>>,
    pub connections: Option<Connections>,
    pub log_retention: Option<u32>,
    pub domain: Option<DomainInput>,
    pub authorizer: Option<Authorizer>,
    /// Replaced whole by a stage's list.
    pub statements: Option<Vec<Statement>>,
    /// Merged key by key over the stages, like `env`.
    pub tags: BTreeMap<String, String>,
    pub reserved_concurrency: Option<u32>,
}

/// `connections:` — the connection registry: `true`, `false`, or a block with options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connections {
    pub enabled: bool,
    /// Seconds a record lives without being refreshed (`ttl:`), so connections whose disconnect
    /// never ran expire.
    pub ttl: Option<u32>,
}

pub(crate) const CONNECTION_KEYS: &[Key<Connections>] = &[
    Key::new("enabled", |c, f| {
        if let Some(enabled) = f.scalar("true or false", checks::flag)? {
            c.enabled = enabled;
        }
        Ok(())
    }),
    Key::new("ttl", |c, f| {
        set(
            &mut c.ttl,
            f.scalar(
                "a time to live in seconds (an integer from 60 to 604800)",
                checks::registry_ttl,
            )?,
        )
    }),
];

/// The keys of `inputs` (and of each `inputs.stages.<stage>`). `stages` comes last: a stage's
/// block is read over the values the keys above it have set.
pub(crate) const INPUT_KEYS: &[Key<Inputs>] = &[
    Key::new("name", |i, f| {
        set(
            &mut i.name,
            f.scalar("a service name", checks::service_name)?,
        )
    }),
    Key::new("description", |i, f| {
        set(&mut i.description, f.scalar("a string", checks::text)?)
    }),
    Key::new("region", |i, f| {
        set(
            &mut i.region,
            f.scalar("an AWS region such as us-east-1", checks::region)?,
        )
    }),
    Key::new("memory", |i, f| {
        set(
            &mut i.memory,
            f.scalar(
                "memory in MB (an integer from 128 to 10240)",
                checks::memory,
            )?,
        )
    }),
    Key::new("timeout", |i, f| {
        set(
            &mut i.timeout,
            f.scalar(
                "a timeout in seconds (an integer from 1 to 900)",
                checks::timeout,
            )?,
        )
    }),
    Key::new("architecture", |i, f| {
        set(
            &mut i.architecture,
            f.scalar("`arm64` or `x86_64`", checks::architecture)?,
        )
    }),
    Key::new("env", read_env),
    Key::new("code", |i, f| {
        set(
            &mut i.code,
            f.scalar("the handler crate's folder", checks::code)?,
        )
    }),
    Key::new("routeSelection", |i, f| {
        set(
            &mut i.route_selection,
            f.scalar("a route selection expression", checks::route_selection)?,
        )
    }),
    Key::new("routes", |i, f| {
        let mut routes = Vec::new();
        for item in f.items()? {
            routes.extend(item.scalar("a route name", checks::route)?);
        }
        i.routes = Some(routes);
        Ok(())
    }),
    Key::new("connections", |i, f| match &f.node.value {
        Value::Scalar(_) => {
            if let Some(enabled) =
                f.scalar("true, false or a block such as `ttl: 10800`", checks::flag)?
            {
                i.connections = Some(Connections { enabled, ttl: None });
            }
            Ok(())
        }
        _ => f.block(
            CONNECTION_KEYS,
            i.connections.get_or_insert(Connections {
                enabled: true,
                ttl: None,
            }),
            "true, false or a block such as `ttl: 10800`",
        ),
    }),
    Key::new("logRetention", |i, f| {
        set(
            &mut i.log_retention,
            f.scalar(
                "days to keep the function's logs (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)",
                checks::log_retention,
            )?,
        )
    }),
    Key::new("domain", |i, f| {
        f.block(
            DOMAIN_KEYS,
            i.domain.get_or_insert_with(Default::default),
            domain::EXPECTING,
        )
    }),
    Key::new("authorizer", |i, f| {
        f.block(
            AUTHORIZER_KEYS,
            i.authorizer.get_or_insert_with(Default::default),
            authorizer::EXPECTING,
        )
    }),
    Key::new("iamRoleStatements", |i, f| {
        i.statements = Some(statements::read(f)?);
        Ok(())
    }),
    Key::new("tags", |i, f| tags::read(&mut i.tags, f)),
    Key::new("reservedConcurrency", |i, f| {
        set(
            &mut i.reserved_concurrency,
            f.scalar(
                "a number of concurrent executions (an integer, 0 or more)",
                checks::reserved_concurrency,
            )?,
        )
    }),
    Key::new("stages", read_stages),
];

/// The component block: `Socket:` (any name) holding `component:` and `inputs:`.
#[derive(Debug, Default)]
pub(crate) struct ComponentBlock {
    pub inputs: Inputs,
}

pub(crate) const COMPONENT_KEYS: &[Key<ComponentBlock>] = &[
    Key::new("component", |_, f| {
        f.scalar("\"@serverless/socket\" or \"socket\"", checks::component)
            .map(drop)
    })
    .required(),
    Key::new("inputs", |b, f| {
        f.block(
            INPUT_KEYS,
            &mut b.inputs,
            "the component's inputs (a map such as `memory: 512`)",
        )
    }),
];

/// Keeps a slot's value when the new one could not be resolved (inside another stage's block).
fn set<T>(slot: &mut Option<T>, value: Option<T>) -> Result<(), ManifestError> {
    if value.is_some() {
        *slot = value;
    }
    Ok(())
}

/// `env:` of the function: names checked against Lambda's rules, values resolved.
fn read_env(inputs: &mut Inputs, field: &Field) -> Result<(), ManifestError> {
    for entry in field.entries("a map of environment variables (NAME: value)")? {
        names::check_env_name(entry.name).map_err(|(m, h)| field.key_error(&entry, m, h))?;
        let value = entry.value.scalar("a string", checks::text)?;
        inputs
            .env
            .insert(entry.name.to_string(), value.unwrap_or_default());
    }
    Ok(())
}

/// `stages:`: each stage's block is checked; the selected stage's is read over `inputs`.
fn read_stages(inputs: &mut Inputs, field: &Field) -> Result<(), ManifestError> {
    if field.scope.in_stage_block {
        return Err(field.error(
            "`stages` cannot be nested inside a stage",
            Some("put every stage's block directly under `inputs.stages`".to_string()),
        ));
    }
    let expecting = "a map from stage name to inputs, e.g. `prod: { memory: 1024 }`";
    for entry in field.entries(expecting)? {
        names::check_stage(entry.name).map_err(|(m, h)| field.key_error(&entry, m, h))?;
        if entry.value.node.is_null() {
            continue;
        }
        let selected = entry.name == field.scope.selected_stage;
        let block = Field {
            scope: Scope {
                stage: entry.name,
                in_stage_block: true,
                active: field.scope.active && selected,
                ..field.scope
            },
            ..entry.value
        };
        let mut other_stage = Inputs::default();
        let into = if selected {
            &mut *inputs
        } else {
            &mut other_stage
        };
        block.block(
            INPUT_KEYS,
            into,
            "the stage's inputs (a map such as `memory: 1024`)",
        )?;
    }
    Ok(())
}
