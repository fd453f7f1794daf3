//! The environment a stage is resolved in: the stage's `.env` file under the process environment.
//!
//! `.env` belongs to the manifest's default stage and `.env.<stage>` to any other stage
//! (`.env.prod` for `--stage prod`). When a name is set both in the process environment and in the
//! file, the process environment wins, as with dotenv everywhere: a CI job or a one-off
//! `AWS_PROFILE=other socket deploy` can override the file without editing it. Callers warn about
//! such overrides for AWS credentials (see [`StageEnv::overridden`]) so a shell's stray keys are not
//! used silently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ManifestError;

/// Where a variable's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Process,
    File,
}

#[derive(Clone, Debug)]
pub struct StageEnv {
    /// The file this stage reads (`.env` or `.env.<stage>`), whether or not it exists.
    pub file: PathBuf,
    /// Whether that file exists.
    pub file_found: bool,
    file_vars: BTreeMap<String, String>,
    process: BTreeMap<String, String>,
}

/// The env file of `stage`: `.env` for the manifest's default stage, `.env.<stage>` otherwise.
pub fn env_file_for(dir: &Path, stage: &str, default_stage: &str) -> PathBuf {
    if stage == default_stage {
        dir.join(".env")
    } else {
        dir.join(format!(".env.{stage}"))
    }
}

/// The current process environment (names and values that are valid UTF-8).
pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

impl StageEnv {
    /// Read the stage's env file (absent is fine) under `process`.
    pub fn load(
        dir: &Path,
        stage: &str,
        default_stage: &str,
        process: BTreeMap<String, String>,
    ) -> Result<StageEnv, ManifestError> {
        let file = env_file_for(dir, stage, default_stage);
        let mut file_vars = BTreeMap::new();
        let file_found = file.is_file();
        if file_found {
            let iter = dotenvy::from_path_iter(&file).map_err(|e| ManifestError::EnvFile {
                path: file.clone(),
                message: e.to_string(),
            })?;
            for item in iter {
                // dotenvy's parse errors carry the offending line, never a value.
                let (key, value) = item.map_err(|e| ManifestError::EnvFile {
                    path: file.clone(),
                    message: e.to_string(),
                })?;
                file_vars.insert(key, value);
            }
        }
        Ok(StageEnv {
            file,
            file_found,
            file_vars,
            process,
        })
    }

    /// The value of `name`: process environment first, then the file.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.process
            .get(name)
            .or_else(|| self.file_vars.get(name))
            .map(String::as_str)
    }

    pub fn source(&self, name: &str) -> Option<Source> {
        if self.process.contains_key(name) {
            Some(Source::Process)
        } else if self.file_vars.contains_key(name) {
            Some(Source::File)
        } else {
            None
        }
    }

    /// Names the file sets that the process environment overrides with a different value.
    pub fn overridden(&self) -> Vec<&str> {
        self.file_vars
            .iter()
            .filter(|(k, v)| self.process.get(*k).is_some_and(|p| p != *v))
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Names set by the file (values are never exposed in messages).
    pub fn file_names(&self) -> impl Iterator<Item = &str> {
        self.file_vars.keys().map(String::as_str)
    }

    /// Values the file sets that the process environment does not.
    pub fn file_only(&self) -> impl Iterator<Item = (&str, &str)> {
        self.file_vars
            .iter()
            .filter(|(k, _)| !self.process.contains_key(*k))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}
