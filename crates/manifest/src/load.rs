//! Reading a manifest file: parse to the raw tree, then read the top level in dependency order.
//!
//! The top level is `name`, `stage`, `org`, `app` and one component block under a key of the
//! user's choosing (any key whose value is a mapping). The stage is read first (it picks the
//! `.env` file), then `name` (which `${name}` stands for), then the block (see `inputs.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::checks;
use super::domain::{self, Domain};
use super::inputs::{ComponentBlock, COMPONENT_KEYS};
use super::located::Located;
use super::read::{unknown_key, Entry, Field, Scope};
use super::stage_env::StageEnv;
use super::yaml::{self, Span, Value};
use super::{names, Architecture, Manifest, ManifestError, Overrides, Registry};
use super::{
    DEFAULT_LOG_RETENTION, DEFAULT_MEMORY, DEFAULT_REGION, DEFAULT_REGISTRY_TTL,
    DEFAULT_ROUTE_SELECTION, DEFAULT_STAGE, DEFAULT_TIMEOUT,
};

pub(crate) const TOP_LEVEL_KEYS: &[&str] = &["name", "stage", "org", "app"];

pub(crate) fn load(
    path: PathBuf,
    src: &str,
    overrides: &Overrides,
    process: BTreeMap<String, String>,
) -> Result<Manifest, ManifestError> {
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let located = Located { path: &path, src };
    let root = yaml::parse(src).map_err(|e| {
        located.at(
            Span {
                offset: e.offset,
                len: 1,
            },
            e.message,
            e.help,
        )
    })?;
    if !matches!(root.value, Value::Mapping(_) | Value::Null) {
        return Err(located.at_start(
            "the manifest is not a mapping of keys to values",
            "start from `socket init` or serverless.yml.example",
        ));
    }

    // Variables are resolved later, per value; the shape is checked first, in the file's order.
    let process_only = StageEnv::load(Path::new("/nonexistent"), "", "", process.clone())?;
    let mut scope = Scope {
        located: &located,
        env: &process_only,
        dir: &dir,
        name: None,
        selected_stage: "",
        stage: "",
        in_stage_block: false,
        active: true,
    };
    let top = Field {
        node: &root,
        path: String::new(),
        scope,
    };
    let entries = match root.value {
        Value::Null => Vec::new(),
        _ => top.entries("a mapping")?,
    };
    let mut block: Option<&Entry> = None;
    for entry in &entries {
        if TOP_LEVEL_KEYS.contains(&entry.name) {
            continue;
        }
        if !matches!(entry.value.node.value, Value::Mapping(_)) {
            return Err(unknown_key(&located, entry, TOP_LEVEL_KEYS));
        }
        if let Some(first) = block {
            return Err(located.at(
                entry.key.span,
                format!(
                    "a second component block `{}` (the first is `{}`)",
                    entry.name, first.name
                ),
                Some(
                    "a manifest describes one socket service; move the other to its own folder"
                        .to_string(),
                ),
            ));
        }
        block = Some(entry);
    }
    let top_level = |key: &str| {
        entries
            .iter()
            .find(|e| e.name == key && !e.value.node.is_null())
            .map(|e| e.value.clone())
    };

    // The stage: `--stage`, else the manifest's `stage` (which may use `${env:…}` of the process
    // environment), else `dev`.
    let default_stage = match top_level("stage") {
        Some(field) => field
            .scalar("a stage name", checks::stage_name)?
            .unwrap_or_default(),
        None => DEFAULT_STAGE.to_string(),
    };
    let stage = match &overrides.stage {
        Some(s) => {
            names::check_stage(s).map_err(|(m, h)| ManifestError::InvalidOption {
                message: format!("--stage: {m}"),
                help: Some(h),
            })?;
            s.clone()
        }
        None => default_stage.clone(),
    };
    let env = StageEnv::load(&dir, &stage, &default_stage, process)?;
    scope.env = &env;
    scope.stage = &stage;
    scope.selected_stage = &stage;

    // The top-level `name` names the resources unless `inputs.name` does.
    let top_name = match top_level("name") {
        Some(field) => {
            let field = Field { scope, ..field };
            let name = field
                .scalar("a service name", |s, _| {
                    names::check_service(s).map(|()| s.to_string())
                })?
                .unwrap_or_default();
            let inputs_name_set = block
                .and_then(|b| b.value.node.get("inputs"))
                .and_then(|inputs| inputs.get("name"))
                .is_some_and(|n| !n.is_null());
            if !inputs_name_set {
                names::check_prefix(&name, &stage).map_err(|(m, h)| field.error(m, Some(h)))?;
            }
            Some(name)
        }
        None => None,
    };
    scope.name = top_name.as_deref();

    let Some(block) = block else {
        return Err(located.at_start(
            "no component block: the manifest needs a block such as `Socket:` with `component: \"@serverless/socket\"` and `inputs:`",
            "see serverless.yml.example, or run `socket init` in an empty folder",
        ));
    };
    let mut component = ComponentBlock::default();
    Field {
        scope,
        ..block.value.clone()
    }
    .block(
        COMPONENT_KEYS,
        &mut component,
        "a component block with `component:` and `inputs:`",
    )?;
    let inputs = component.inputs;

    let Some(service) = inputs.name.or_else(|| top_name.clone()) else {
        return Err(located.at(
            block.key.span,
            "the service has no name".to_string(),
            Some(
                "set the top-level `name:` (or `inputs.name`), e.g. `name: my-socket`".to_string(),
            ),
        ));
    };

    let region = match &overrides.region {
        Some(r) => {
            names::check_region(r).map_err(|(m, h)| ManifestError::InvalidOption {
                message: format!("--region: {m}"),
                help: Some(h),
            })?;
            r.clone()
        }
        None => match inputs.region {
            Some(r) => r,
            None => match env
                .get("AWS_REGION")
                .or_else(|| env.get("AWS_DEFAULT_REGION"))
            {
                Some(r) if names::check_region(r).is_ok() => r.to_string(),
                _ => DEFAULT_REGION.to_string(),
            },
        },
    };

    let domain = match inputs.domain {
        Some(input) => {
            let (certificate, at, field) =
                input
                    .certificate
                    .unwrap_or((String::new(), block.key.span, String::new()));
            domain::check_certificate_region(&certificate, &region).map_err(
                |(message, help)| located.at(at, format!("{field}: {message}"), Some(help)),
            )?;
            Some(Domain {
                name: input.name.unwrap_or_default(),
                certificate,
                base_path: input.base_path.unwrap_or_default(),
            })
        }
        None => None,
    };
    let connections = inputs
        .connections
        .filter(|connections| connections.enabled)
        .map(|connections| Registry {
            table: names::registry_table(&service, &stage),
            ttl: connections.ttl.unwrap_or(DEFAULT_REGISTRY_TTL),
        });
    Ok(Manifest {
        service,
        stage,
        default_stage,
        description: inputs.description,
        region,
        profile: overrides.profile.clone(),
        memory: inputs.memory.unwrap_or(DEFAULT_MEMORY),
        timeout: inputs.timeout.unwrap_or(DEFAULT_TIMEOUT),
        architecture: inputs.architecture.unwrap_or(Architecture::Arm64),
        env: inputs.env,
        code: inputs.code.unwrap_or_else(|| dir.clone()),
        route_selection: inputs
            .route_selection
            .unwrap_or_else(|| DEFAULT_ROUTE_SELECTION.to_string()),
        routes: inputs.routes.unwrap_or_default(),
        connections,
        log_retention: inputs.log_retention.unwrap_or(DEFAULT_LOG_RETENTION),
        domain,
        authorizer: inputs.authorizer,
        statements: inputs.statements.unwrap_or_default(),
        tags: inputs.tags,
        reserved_concurrency: inputs.reserved_concurrency,
        dir,
        path,
    })
}
