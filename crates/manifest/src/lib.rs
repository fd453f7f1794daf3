//! `serverless.yml`: the service's manifest, resolved for one stage.
//!
//! The types below are what every command works from. Loading, variables and
//! validation with line numbers live in this module too.
//!
//! Parsing uses `serde_norway`, the maintained fork of `serde_yaml` (deprecated upstream) with the
//! same API; its errors carry the line and column of the offending value, which is what lets every
//! error here point at the file. See `serverless.yml.example` for every key.
//!
//! Stage-specific values: `inputs.stages.<stage>` holds any inputs (but `stages`) and is merged
//! over `inputs` when that stage is selected; `env` is merged name by name.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The CPU architecture of the Lambda function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Architecture {
    #[serde(rename = "arm64")]
    Arm64,
    #[serde(rename = "x86_64")]
    X86_64,
}

/// Command-line values that take precedence over the manifest.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub stage: Option<String>,
    pub region: Option<String>,
}

/// A manifest resolved for one stage: variables substituted, defaults applied, validated.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// The manifest file itself (absolute).
    pub path: PathBuf,
    /// The folder holding the manifest: `.env` files and `.socket/` live here.
    pub dir: PathBuf,
    /// The service name (`inputs.name`, else the top-level `name`); prefixes every resource name.
    pub service: String,
    pub stage: String,
    /// The manifest's own default stage (`.env` belongs to it; other stages read `.env.<stage>`).
    pub default_stage: String,
    pub description: Option<String>,
    pub region: String,
    /// MB, 128..=10240.
    pub memory: u32,
    /// Seconds, 1..=900.
    pub timeout: u32,
    pub architecture: Architecture,
    /// Function environment (names may be shown, values never).
    pub env: BTreeMap<String, String>,
    /// The handler crate's folder (absolute).
    pub code: PathBuf,
    /// API Gateway route selection expression, e.g. `$request.body.route`.
    pub route_selection: String,
    /// Custom routes declared in the manifest (besides `$connect`, `$disconnect`, `$default`).
    pub routes: Vec<String>,
}

mod document;
mod error;
pub mod names;
pub mod stage_env;
mod variables;

pub use error::ManifestError;
pub use stage_env::{env_file_for, process_env, StageEnv};

use std::path::Path;

use miette::{NamedSource, SourceSpan};

use document::{Context, Document, Inputs, HELP_MARKER, INPUT_KEYS, TOP_LEVEL_KEYS};
use variables::Variables;

/// Defaults, documented in `serverless.yml.example`.
pub const DEFAULT_STAGE: &str = "dev";
pub const DEFAULT_REGION: &str = "us-east-1";
/// The original component's default; plenty for a Rust handler and CPU scales with it.
pub const DEFAULT_MEMORY: u32 = 512;
pub const DEFAULT_TIMEOUT: u32 = 10;
pub use socket_protocol::DEFAULT_ROUTE_SELECTION;
/// API Gateway waits at most this long for a WebSocket integration to answer.
pub const API_GATEWAY_TIMEOUT: u32 = 29;

impl Manifest {
    /// Read and resolve the manifest at `path` for the stage `overrides` (or the manifest) selects,
    /// with `${env:…}` resolved against the process environment over the stage's `.env` file.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Manifest, ManifestError> {
        Self::load_with_env(path, overrides, process_env())
    }

    /// [`Manifest::load`] with an explicit process environment (tests, embedding).
    pub fn load_with_env(
        path: &Path,
        overrides: &Overrides,
        process: BTreeMap<String, String>,
    ) -> Result<Manifest, ManifestError> {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let src = match std::fs::read_to_string(&path) {
            Ok(src) => src,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ManifestError::NotFound { path })
            }
            Err(source) => return Err(ManifestError::Read { path, source }),
        };
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let located = Located {
            path: &path,
            src: &src,
        };

        // First pass: the shape, and the top-level values everything else depends on.
        let value: serde_norway::Value =
            serde_norway::from_str(&src).map_err(|e| located.serde(&e))?;
        let top = match &value {
            serde_norway::Value::Mapping(m) => m.clone(),
            serde_norway::Value::Null => serde_norway::Mapping::new(),
            _ => {
                return Err(located.at_start(
                    "the manifest is not a mapping of keys to values",
                    Some("start from `socket init` or serverless.yml.example"),
                ))
            }
        };
        let top_str = |key: &str| -> Result<Option<String>, ManifestError> {
            match top.get(key) {
                None | Some(serde_norway::Value::Null) => Ok(None),
                Some(serde_norway::Value::String(s)) => Ok(Some(s.clone())),
                Some(serde_norway::Value::Number(n)) => Ok(Some(n.to_string())),
                Some(_) => Err(located.at_key(key, &format!("`{key}` must be a string"), None)),
            }
        };

        // The stage: `--stage`, else the manifest's `stage` (which may use `${env:…}` of the
        // process environment), else `dev`.
        let process_only = StageEnv::load(Path::new("/nonexistent"), "", "", process.clone())?;
        let default_stage = match top_str("stage")? {
            Some(raw) => {
                let vars = Variables {
                    stage: "",
                    name: None,
                    env: &process_only,
                };
                let s = vars.substitute(&raw).map_err(|e| {
                    let (m, h) = e.message(&process_only);
                    located.at_key("stage", &m, Some(&h))
                })?;
                names::check_stage(&s).map_err(|(m, h)| located.at_key("stage", &m, Some(&h)))?;
                s
            }
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

        let top_name = match top_str("name")? {
            Some(raw) => {
                let vars = Variables {
                    stage: &stage,
                    name: None,
                    env: &env,
                };
                Some(vars.substitute(&raw).map_err(|e| {
                    let (m, h) = e.message(&env);
                    located.at_key("name", &m, Some(&h))
                })?)
            }
            None => None,
        };
        let mapping_keys: Vec<String> = top
            .iter()
            .filter(|(_, v)| v.is_mapping())
            .filter_map(|(k, _)| k.as_str().map(str::to_string))
            .filter(|k| !TOP_LEVEL_KEYS.contains(&k.as_str()))
            .collect();
        let inputs_name_set = mapping_keys.iter().any(|k| {
            top.get(k.as_str())
                .and_then(|block| block.get("inputs"))
                .and_then(|inputs| inputs.get("name"))
                .is_some_and(|n| !n.is_null())
        });

        // Second pass: every value typed, checked and resolved, with its position on error.
        let ctx = Context {
            stage: stage.clone(),
            selected_stage: stage.clone(),
            name: top_name.clone(),
            inputs_name_set,
            mapping_keys,
            in_top_level_name: false,
            env: env.clone(),
            dir: dir.clone(),
            active: true,
        };
        let doc: Document = document::with_context(ctx, || serde_norway::from_str(&src))
            .map_err(|e| located.serde(&e))?;

        let Some((block_key, block)) = doc.component else {
            return Err(located.at_start(
                "no component block: the manifest needs a block such as `Socket:` with `component: \"@serverless/socket\"` and `inputs:`",
                Some("see serverless.yml.example, or run `socket init` in an empty folder"),
            ));
        };
        let inputs = merge(block.inputs);

        let service = match inputs.name.and_then(|n| n.0).or(doc.name) {
            Some(s) => s,
            None => {
                return Err(located.at_key(
                    &block_key,
                    "the service has no name",
                    Some("set the top-level `name:` (or `inputs.name`), e.g. `name: my-socket`"),
                ))
            }
        };

        let region = match &overrides.region {
            Some(r) => {
                names::check_region(r).map_err(|(m, h)| ManifestError::InvalidOption {
                    message: format!("--region: {m}"),
                    help: Some(h),
                })?;
                r.clone()
            }
            None => match inputs.region.and_then(|r| r.0) {
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

        Ok(Manifest {
            path: path.clone(),
            dir: dir.clone(),
            service,
            stage,
            default_stage,
            description: inputs.description.and_then(|d| d.0),
            region,
            memory: inputs.memory.and_then(|m| m.0).unwrap_or(DEFAULT_MEMORY),
            timeout: inputs.timeout.and_then(|t| t.0).unwrap_or(DEFAULT_TIMEOUT),
            architecture: inputs
                .architecture
                .and_then(|a| a.0)
                .unwrap_or(Architecture::Arm64),
            env: inputs.env.map(|e| e.0).unwrap_or_default(),
            code: inputs.code.and_then(|c| c.0).unwrap_or_else(|| dir.clone()),
            route_selection: inputs
                .route_selection
                .and_then(|r| r.0)
                .unwrap_or_else(|| DEFAULT_ROUTE_SELECTION.to_string()),
            routes: inputs
                .routes
                .unwrap_or_default()
                .into_iter()
                .filter_map(|r| r.0)
                .collect(),
        })
    }

    /// Things that are allowed but likely not what the user wants; commands print them.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.timeout > API_GATEWAY_TIMEOUT {
            out.push(format!(
                "timeout is {} s, but API Gateway waits at most {API_GATEWAY_TIMEOUT} s for a WebSocket handler: \
                 longer work keeps running, but the client gets no reply from that invocation",
                self.timeout
            ));
        }
        out
    }

    /// `{service}-{stage}`: the prefix of every AWS resource name of this stage.
    pub fn resource_prefix(&self) -> String {
        format!("{}-{}", self.service, self.stage)
    }

    /// Where this stage's build output goes: `<manifest dir>/.socket/<stage>/`.
    pub fn output_dir(&self) -> PathBuf {
        self.dir.join(".socket").join(&self.stage)
    }

    /// The stage's env file (`.env` or `.env.<stage>`), whether or not it exists.
    pub fn env_file(&self) -> PathBuf {
        env_file_for(&self.dir, &self.stage, &self.default_stage)
    }
}

impl Architecture {
    /// The name Lambda uses (`arm64`, `x86_64`).
    pub fn as_lambda(self) -> &'static str {
        match self {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        }
    }

    /// The static Linux target the function is built for.
    pub fn rust_target(self) -> &'static str {
        match self {
            Architecture::Arm64 => "aarch64-unknown-linux-musl",
            Architecture::X86_64 => "x86_64-unknown-linux-musl",
        }
    }

    /// The architecture of the machine this tool runs on, when Lambda has it.
    pub fn host() -> Option<Architecture> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Architecture::X86_64),
            "aarch64" => Some(Architecture::Arm64),
            _ => None,
        }
    }
}

impl std::fmt::Display for Architecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_lambda())
    }
}

/// `inputs` with the selected stage's block merged over it.
fn merge(inputs: Option<Inputs>) -> Inputs {
    let Some(mut base) = inputs else {
        return Inputs {
            name: None,
            description: None,
            region: None,
            memory: None,
            timeout: None,
            architecture: None,
            env: None,
            code: None,
            route_selection: None,
            routes: None,
            stages: None,
        };
    };
    let Some(stage) = base.stages.take().and_then(|s| s.0) else {
        return base;
    };
    let stage = *stage;
    macro_rules! over {
        ($($field:ident),*) => { $( if stage.$field.is_some() { base.$field = stage.$field; } )* };
    }
    over!(
        name,
        description,
        region,
        memory,
        timeout,
        architecture,
        code,
        route_selection,
        routes
    );
    if let Some(stage_env) = stage.env {
        base.env
            .get_or_insert_with(Default::default)
            .0
            .extend(stage_env.0);
    }
    base
}

/// The closest of `candidates` to a misspelt `word`, if any is close.
pub(crate) fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| {
            (
                *c,
                strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase()),
            )
        })
        .filter(|(_, score)| *score >= 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

/// Builds errors that point into the manifest.
struct Located<'a> {
    path: &'a Path,
    src: &'a str,
}

impl Located<'_> {
    fn error(&self, index: usize, message: String, help: Option<String>) -> ManifestError {
        let index = index.min(self.src.len());
        let before = &self.src[..index];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let len = self.src[index..]
            .find(['\n', ':'])
            .unwrap_or(self.src.len() - index)
            .max(1)
            .min(self.src.len().saturating_sub(index).max(1));
        ManifestError::Invalid {
            path: self.path.to_path_buf(),
            line,
            column,
            message,
            help,
            src: std::sync::Arc::new(
                NamedSource::new(self.path.display().to_string(), self.src.to_string())
                    .with_language("yaml"),
            ),
            span: SourceSpan::new(index.into(), len.min(self.src.len().saturating_sub(index))),
        }
    }

    fn at_start(&self, message: &str, help: Option<&str>) -> ManifestError {
        self.error(0, message.to_string(), help.map(str::to_string))
    }

    /// At a top-level key's line.
    fn at_key(&self, key: &str, message: &str, help: Option<&str>) -> ManifestError {
        let mut index = 0;
        for line in self.src.split_inclusive('\n') {
            let unquoted = line.trim_start_matches(['"', '\'']);
            if unquoted.starts_with(key)
                && unquoted[key.len()..]
                    .trim_start_matches(['"', '\''])
                    .starts_with(':')
            {
                break;
            }
            index += line.len();
        }
        self.error(index, message.to_string(), help.map(str::to_string))
    }

    fn serde(&self, e: &serde_norway::Error) -> ManifestError {
        let mut text = e.to_string();
        if let Some(loc) = e.location() {
            let suffix = format!(" at line {} column {}", loc.line(), loc.column());
            if let Some(stripped) = text.strip_suffix(&suffix) {
                text = stripped.to_string();
            }
        }
        let (mut message, mut help) = match text.split_once(HELP_MARKER) {
            Some((m, h)) => (m.to_string(), Some(h.to_string())),
            None => (text, None),
        };
        if let Some((field, expected)) = unknown_field(&message) {
            let candidates: Vec<&str> = if expected.is_empty() {
                INPUT_KEYS.iter().chain(TOP_LEVEL_KEYS).copied().collect()
            } else {
                expected.iter().map(String::as_str).collect()
            };
            message = format!("unknown key `{field}`");
            help = Some(match suggest(&field, &candidates) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("the keys here are: {}", candidates.join(", ")),
            });
        }
        let index = e.location().map_or(0, |l| l.index());
        self.error(index, message, help)
    }
}

/// Parses serde's "unknown field `x`, expected one of `a`, `b`" into (`x`, [`a`, `b`]).
fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let at = message.find("unknown field `")?;
    let rest = &message[at + "unknown field `".len()..];
    let end = rest.find('`')?;
    let field = rest[..end].to_string();
    let expected = rest[end + 1..]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((field, expected))
}
