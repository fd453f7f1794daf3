//! Typed values out of the raw tree: variables resolved, checks run, errors placed at the value.
//!
//! A block of the manifest is declared as a table of [`Key`]s (see `inputs.rs`); [`Field::block`]
//! refuses keys the table does not have, with a "did you mean" suggestion, and hands each present
//! value to its key's reader. Readers are plain functions over a [`Field`]: the value, its path
//! in the document (`Socket.inputs.memory`, shown before every message) and the [`Scope`] its
//! variables resolve in.

use std::fmt::Display;
use std::path::Path;

use super::located::Located;
use super::stage_env::StageEnv;
use super::variables::Variables;
use super::yaml::{Node, Value};
use super::ManifestError;

/// Turns a value's resolved text into the value, or a message and a help line.
pub(crate) type Check<T> = fn(&str, &Scope) -> Result<T, (String, String)>;

/// What the values being read resolve against.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub located: &'a Located<'a>,
    pub env: &'a StageEnv,
    /// The manifest's folder: relative paths start here.
    pub dir: &'a Path,
    /// The top-level `name`, resolved (`None` while it is itself being read).
    pub name: Option<&'a str>,
    /// The stage the command acts on.
    pub selected_stage: &'a str,
    /// The stage `${stage}` stands for: the selected one, or a `stages:` block's own key inside it.
    pub stage: &'a str,
    /// Inside one of `inputs.stages`.
    pub in_stage_block: bool,
    /// False inside another stage's block: its `${env:…}` belong to another `.env` file, so a
    /// value that cannot be resolved is skipped there rather than refused.
    pub active: bool,
}

/// One key of a block: its name as written and how its value is read into the block's `T`.
/// A key whose value is null (`key:` or `key: ~`) counts as absent.
pub(crate) struct Key<T> {
    pub name: &'static str,
    pub read: fn(&mut T, &Field) -> Result<(), ManifestError>,
    pub required: bool,
}

impl<T> Key<T> {
    pub const fn new(
        name: &'static str,
        read: fn(&mut T, &Field) -> Result<(), ManifestError>,
    ) -> Self {
        Key {
            name,
            read,
            required: false,
        }
    }

    pub const fn required(self) -> Self {
        Key {
            required: true,
            ..self
        }
    }
}

/// A value of the manifest, where it is, and the scope it resolves in.
#[derive(Clone)]
pub(crate) struct Field<'a> {
    pub node: &'a Node,
    /// Its path in the document, e.g. `Socket.inputs.env.TABLE` or `Socket.inputs.routes[0]`.
    pub path: String,
    pub scope: Scope<'a>,
}

/// A key of a mapping with its value.
pub(crate) struct Entry<'a> {
    pub name: &'a str,
    pub key: &'a Node,
    pub value: Field<'a>,
}

impl<'a> Field<'a> {
    /// An error at this value, prefixed with its path.
    pub fn error(&self, message: impl Display, help: Option<String>) -> ManifestError {
        self.scope
            .located
            .at(self.node.span, self.prefixed(message), help)
    }

    fn prefixed(&self, message: impl Display) -> String {
        match self.path.as_str() {
            "" => message.to_string(),
            path => format!("{path}: {message}"),
        }
    }

    /// An error at `entry`'s key (rather than its value), prefixed with this mapping's path.
    pub fn key_error(&self, entry: &Entry, message: impl Display, help: String) -> ManifestError {
        self.scope
            .located
            .at(entry.key.span, self.prefixed(message), Some(help))
    }

    pub fn invalid_type(&self, expecting: &str) -> ManifestError {
        let found = match &self.node.value {
            Value::Scalar(s) => format!("string {s:?}"),
            other => other.kind().to_string(),
        };
        self.error(format!("invalid type: {found}, expected {expecting}"), None)
    }

    /// A scalar (a number or `true` is read as its text) with its variables substituted, then
    /// `check`ed. `None` when a variable cannot be resolved inside another stage's block.
    pub fn scalar<T>(&self, expecting: &str, check: Check<T>) -> Result<Option<T>, ManifestError> {
        let Value::Scalar(raw) = &self.node.value else {
            return Err(self.invalid_type(expecting));
        };
        let vars = Variables {
            stage: self.scope.stage,
            name: self.scope.name,
            env: self.scope.env,
        };
        let text = match vars.substitute(raw) {
            Ok(text) => text,
            Err(_) if !self.scope.active => return Ok(None),
            Err(e) => {
                let (message, help) = e.message(self.scope.env);
                return Err(self.error(message, Some(help)));
            }
        };
        check(&text, &self.scope)
            .map(Some)
            .map_err(|(message, help)| self.error(message, Some(help)))
    }

    /// The items of a sequence.
    pub fn items(&self) -> Result<Vec<Field<'a>>, ManifestError> {
        let Value::Sequence(items) = &self.node.value else {
            return Err(self.invalid_type("a sequence"));
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, node)| Field {
                node,
                path: format!("{}[{i}]", self.path),
                scope: self.scope,
            })
            .collect())
    }

    /// The entries of a mapping, in the file's order.
    pub fn entries(&self, expecting: &str) -> Result<Vec<Entry<'a>>, ManifestError> {
        let Value::Mapping(pairs) = &self.node.value else {
            return Err(self.invalid_type(expecting));
        };
        pairs
            .iter()
            .map(|(key, node)| {
                let Value::Scalar(name) = &key.value else {
                    let key = Field {
                        node: key,
                        ..self.clone()
                    };
                    return Err(key.invalid_type("a key"));
                };
                Ok(Entry {
                    name,
                    key,
                    value: Field {
                        node,
                        path: match self.path.as_str() {
                            "" => name.to_string(),
                            parent => format!("{parent}.{name}"),
                        },
                        scope: self.scope,
                    },
                })
            })
            .collect()
    }

    /// Reads a mapping whose keys are declared in `keys` into `into`. Keys are read in the
    /// table's order, so a reader may rely on the keys declared before it.
    pub fn block<T>(
        &self,
        keys: &[Key<T>],
        into: &mut T,
        expecting: &str,
    ) -> Result<(), ManifestError> {
        let entries = self.entries(expecting)?;
        let names: Vec<&str> = keys.iter().map(|k| k.name).collect();
        if let Some(unknown) = entries.iter().find(|e| !names.contains(&e.name)) {
            return Err(unknown_key(self.scope.located, unknown, &names));
        }
        for key in keys {
            match entries
                .iter()
                .find(|e| e.name == key.name && !e.value.node.is_null())
            {
                Some(entry) => (key.read)(into, &entry.value)?,
                None if key.required => {
                    return Err(self.error(
                        format!("missing field `{}`", key.name),
                        Some(format!("add `{}:` to this block", key.name)),
                    ))
                }
                None => {}
            }
        }
        Ok(())
    }
}

/// "unknown key `regoin`", with the closest of `candidates` as a suggestion.
pub(crate) fn unknown_key(located: &Located, entry: &Entry, candidates: &[&str]) -> ManifestError {
    let help = match suggest(entry.name, candidates) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("the keys here are: {}", candidates.join(", ")),
    };
    located.at(
        entry.key.span,
        format!("unknown key `{}`", entry.name),
        Some(help),
    )
}

/// The closest of `candidates` to a misspelt `word`, if any is close.
fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
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
