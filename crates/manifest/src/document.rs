//! The manifest as written, deserialized with every check that has a place in the file.
//!
//! Checks run inside `Deserialize` so that serde_norway attaches the line and column of the
//! offending value to the error. Variables are substituted there too, against a per-thread
//! [`Context`] that [`super::Manifest::load`] sets for the duration of one parse.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use super::names;
use super::stage_env::StageEnv;
use super::variables::Variables;
use super::Architecture;

pub(super) struct Context {
    /// The stage values are resolved for (a `stages:` block's own key while inside it).
    pub stage: String,
    /// The stage the command acts on.
    pub selected_stage: String,
    /// The top-level `name`, resolved.
    pub name: Option<String>,
    /// Whether `inputs.name` is set (then the top-level `name` does not name resources).
    pub inputs_name_set: bool,
    /// Top-level keys whose value is a mapping: candidates for the component block.
    pub mapping_keys: Vec<String>,
    /// Set while the top-level `name` is parsed.
    pub in_top_level_name: bool,
    pub env: StageEnv,
    pub dir: PathBuf,
    /// False inside the `stages:` block of a stage other than the selected one: its `${env:…}`
    /// belong to another `.env` file and are not resolved.
    pub active: bool,
}

thread_local! {
    static CONTEXT: RefCell<Option<Context>> = const { RefCell::new(None) };
}

pub(super) fn with_context<T>(ctx: Context, f: impl FnOnce() -> T) -> T {
    CONTEXT.with(|c| *c.borrow_mut() = Some(ctx));
    let out = f();
    CONTEXT.with(|c| *c.borrow_mut() = None);
    out
}

fn ctx<T>(f: impl FnOnce(&mut Context) -> T) -> T {
    CONTEXT.with(|c| {
        f(c.borrow_mut()
            .as_mut()
            .expect("manifest context is set while parsing"))
    })
}

type Check<T> = fn(&str) -> Result<T, (String, String)>;

/// Resolves variables in a scalar and runs `check` on the result, inside the deserializer call so
/// that serde_norway attaches the value's own line and column to an error. `None` when the value
/// cannot be resolved for this stage (inside another stage's block).
struct ScalarVisitor<'a, T> {
    expecting: &'a str,
    check: Check<T>,
}

impl<T> ScalarVisitor<'_, T> {
    fn resolve<E: de::Error>(self, raw: &str) -> Result<Option<T>, E> {
        let resolved = ctx(|c| {
            let vars = Variables {
                stage: &c.stage,
                name: c.name.as_deref(),
                env: &c.env,
            };
            match vars.substitute(raw) {
                Ok(s) => Ok(Some(s)),
                Err(_) if !c.active => Ok(None),
                Err(e) => {
                    let (message, help) = e.message(&c.env);
                    Err(E::custom(with_help(message, help)))
                }
            }
        })?;
        match resolved {
            None => Ok(None),
            Some(s) => (self.check)(&s)
                .map(Some)
                .map_err(|(m, h)| E::custom(with_help(m, h))),
        }
    }
}

impl<T> Visitor<'_> for ScalarVisitor<'_, T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.resolve(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.resolve(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.resolve(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.resolve(&v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.resolve(&v.to_string())
    }
}

/// Help travels inside the serde message, after a marker, and is split off when rendering.
pub(super) const HELP_MARKER: &str = "\u{1f}help: ";

pub(super) fn with_help(message: impl fmt::Display, help: impl fmt::Display) -> String {
    format!("{message}{HELP_MARKER}{help}")
}

/// A map key checked inside the deserializer call, so an error points at the key itself.
struct CheckedKey<F>(F);

impl<'de, F: FnOnce(&str) -> Result<(), String>> de::DeserializeSeed<'de> for CheckedKey<F> {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl<F: FnOnce(&str) -> Result<(), String>> Visitor<'_> for CheckedKey<F> {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        (self.0)(v).map_err(E::custom)?;
        Ok(v.to_string())
    }
}

fn help_pair((m, h): (String, String)) -> String {
    with_help(m, h)
}

/// Declares a newtype over a scalar: `$check` turns the resolved text into the value or an error
/// message with help.
macro_rules! scalar {
    ($name:ident, $ty:ty, $expecting:expr, $check:expr) => {
        #[derive(Clone, Debug)]
        #[allow(dead_code)] // some are only checked, their value unused
        pub(super) struct $name(pub Option<$ty>);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let visitor = ScalarVisitor {
                    expecting: $expecting,
                    check: $check,
                };
                d.deserialize_any(visitor).map($name)
            }
        }
    };
}

scalar!(Text, String, "a string", |s| Ok(s.to_string()));
scalar!(ServiceName, String, "a service name", |s| {
    names::check_service(s)?;
    let (stage, active, names_resources) = ctx(|c| {
        (
            c.stage.clone(),
            c.active,
            !(c.in_top_level_name && c.inputs_name_set),
        )
    });
    if active && names_resources {
        names::check_prefix(s, &stage)?;
    }
    Ok(s.to_string())
});
scalar!(Region, String, "an AWS region such as us-east-1", |s| {
    names::check_region(s)?;
    Ok(s.to_string())
});
scalar!(
    Memory,
    u32,
    "memory in MB (an integer from 128 to 10240)",
    |s| {
        bounded(
            s,
            "memory",
            128,
            10240,
            "MB",
            "Lambda accepts 128 to 10240 MB, e.g. `memory: 512`",
        )
    }
);
scalar!(
    Timeout,
    u32,
    "a timeout in seconds (an integer from 1 to 900)",
    |s| {
        bounded(
            s,
            "timeout",
            1,
            900,
            "seconds",
            "Lambda accepts 1 to 900 seconds, e.g. `timeout: 10`",
        )
    }
);
scalar!(Arch, Architecture, "`arm64` or `x86_64`", |s| match s {
    "arm64" | "aarch64" => Ok(Architecture::Arm64),
    "x86_64" | "amd64" | "x86-64" => Ok(Architecture::X86_64),
    other => Err((
        format!("unknown architecture `{other}`"),
        "use `arm64` (Graviton, the default: cheaper per ms) or `x86_64`".to_string(),
    )),
});
scalar!(Code, PathBuf, "the handler crate's folder", |s| {
    let dir = ctx(|c| c.dir.clone());
    let path = dir.join(s);
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
});
scalar!(
    RouteSelection,
    String,
    "a route selection expression",
    |s| {
        if s.starts_with("$request.body.") || (s.starts_with("${request.body.") && s.ends_with('}'))
        {
            Ok(s.to_string())
        } else {
            Err((
            format!("`{s}` is not a WebSocket route selection expression"),
            "WebSocket APIs select routes from the message body: `$request.body.route` (the default) or e.g. `$request.body.action`".to_string(),
        ))
        }
    }
);
scalar!(RouteName, String, "a route name", |s| {
    names::check_route(s)?;
    Ok(s.to_string())
});
scalar!(
    ComponentName,
    String,
    "\"@serverless/socket\" or \"socket\"",
    |s| {
        // A version suffix (`@serverless/socket@1.0`) is accepted and ignored.
        let base = match s.strip_prefix('@') {
            Some(rest) => format!("@{}", rest.split('@').next().unwrap_or(rest)),
            None => s.split('@').next().unwrap_or(s).to_string(),
        };
        match base.as_str() {
            "@serverless/socket" | "socket" => Ok(s.to_string()),
            _ => Err((
                format!("component `{s}` is not socket"),
                "this tool deploys `component: \"@serverless/socket\"` (or `\"socket\"`)"
                    .to_string(),
            )),
        }
    }
);
scalar!(StageName, String, "a stage name", |s| {
    names::check_stage(s)?;
    Ok(s.to_string())
});

fn bounded(
    s: &str,
    what: &str,
    min: u32,
    max: u32,
    unit: &str,
    help: &str,
) -> Result<u32, (String, String)> {
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

/// `env:` of the function: names checked against Lambda's rules, values resolved.
#[derive(Clone, Debug, Default)]
pub(super) struct EnvMap(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for EnvMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EnvMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of environment variables (NAME: value)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvMap, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key_seed(CheckedKey(|k: &str| {
                    names::check_env_name(k).map_err(help_pair)
                }))? {
                    let value: Text = map.next_value()?;
                    out.insert(key, value.0.unwrap_or_default());
                }
                Ok(EnvMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct Inputs {
    pub name: Option<ServiceName>,
    pub description: Option<Text>,
    pub region: Option<Region>,
    pub memory: Option<Memory>,
    pub timeout: Option<Timeout>,
    pub architecture: Option<Arch>,
    pub env: Option<EnvMap>,
    pub code: Option<Code>,
    pub route_selection: Option<RouteSelection>,
    pub routes: Option<Vec<RouteName>>,
    pub stages: Option<Stages>,
}

pub(super) const INPUT_KEYS: &[&str] = &[
    "name",
    "description",
    "region",
    "memory",
    "timeout",
    "architecture",
    "env",
    "code",
    "routeSelection",
    "routes",
    "stages",
];

/// `stages:`: per-stage inputs merged over the block's own. Only the selected stage's block is kept.
#[derive(Clone, Debug, Default)]
pub(super) struct Stages(pub Option<Box<Inputs>>);

impl<'de> Deserialize<'de> for Stages {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Stages;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map from stage name to inputs, e.g. `prod: { memory: 1024 }`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Stages, A::Error> {
                let mut selected = None;
                while let Some(stage) = map.next_key_seed(CheckedKey(|k: &str| {
                    names::check_stage(k).map_err(help_pair)
                }))? {
                    let (outer_stage, is_selected) = ctx(|c| {
                        (
                            std::mem::replace(&mut c.stage, stage.clone()),
                            c.selected_stage == stage,
                        )
                    });
                    let outer_active = ctx(|c| {
                        let outer = c.active;
                        c.active = outer && is_selected;
                        outer
                    });
                    let inputs = map.next_value::<Inputs>();
                    ctx(|c| {
                        c.stage = outer_stage;
                        c.active = outer_active;
                    });
                    let inputs = inputs?;
                    if inputs.stages.is_some() {
                        return Err(de::Error::custom(with_help(
                            "`stages` cannot be nested inside a stage",
                            "put every stage's block directly under `inputs.stages`",
                        )));
                    }
                    if is_selected {
                        selected = Some(Box::new(inputs));
                    }
                }
                Ok(Stages(selected))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a component block with `component:` and `inputs:`"
)]
pub(super) struct ComponentBlock {
    #[allow(dead_code)] // checked while parsing
    pub component: ComponentName,
    pub inputs: Option<Inputs>,
}

pub(super) const TOP_LEVEL_KEYS: &[&str] = &["name", "stage", "org", "app"];

/// The whole file: top-level keys plus one component block under a key of the user's choosing.
#[derive(Debug, Default)]
pub(super) struct Document {
    pub name: Option<String>,
    pub component: Option<(String, ComponentBlock)>,
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Document;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a manifest: `name`, `stage` and a component block")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
                let mut doc = Document::default();
                let (mapping_keys, mut first_block) =
                    (ctx(|c| c.mapping_keys.clone()), None::<String>);
                while let Some(key) = map.next_key_seed(CheckedKey(|k: &str| {
                    if TOP_LEVEL_KEYS.contains(&k) {
                        return Ok(());
                    }
                    if !mapping_keys.iter().any(|m| m == k) {
                        let expected: Vec<String> = TOP_LEVEL_KEYS.iter().map(|k| format!("`{k}`")).collect();
                        return Err(format!("unknown field `{k}`, expected one of {}", expected.join(", ")));
                    }
                    match &first_block {
                        Some(first) => Err(with_help(
                            format!("a second component block `{k}` (the first is `{first}`)"),
                            "a manifest describes one socket service; move the other to its own folder",
                        )),
                        None => {
                            first_block = Some(k.to_string());
                            Ok(())
                        }
                    }
                }))? {
                    match key.as_str() {
                        "name" => {
                            // Already resolved by the first pass; checked here for its position.
                            ctx(|c| c.in_top_level_name = true);
                            let name = map.next_value::<ServiceName>();
                            ctx(|c| c.in_top_level_name = false);
                            doc.name = name?.0;
                        }
                        "stage" => {
                            map.next_value::<StageName>()?;
                        }
                        "org" | "app" => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        _ => {
                            let block: ComponentBlock = map.next_value()?;
                            doc.component = Some((key, block));
                        }
                    }
                }
                Ok(doc)
            }
        }
        d.deserialize_map(V)
    }
}
