//! Manifest errors: each says where (file, line, column) and what to do.

use std::path::PathBuf;

use miette::{Diagnostic, NamedSource, SourceSpan};

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ManifestError {
    #[error("no manifest at {}", path.display())]
    #[diagnostic(
        code(socket::manifest::not_found),
        help("run `socket init` to create a project, or pass the manifest with `--config PATH`")
    )]
    NotFound { path: PathBuf },

    #[error("cannot read {}: {source}", path.display())]
    #[diagnostic(code(socket::manifest::read), help("check the file's permissions"))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A problem at a known place in the manifest.
    #[error("{}:{line}:{column}: {message}", path.display())]
    #[diagnostic(code(socket::manifest::invalid))]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        #[help]
        help: Option<String>,
        #[source_code]
        // Shared, to keep the error small (it travels in every `Result`).
        src: std::sync::Arc<NamedSource<String>>,
        #[label("here")]
        span: SourceSpan,
    },

    /// A problem with a command-line value (`--stage`, `--region`).
    #[error("{message}")]
    #[diagnostic(code(socket::manifest::option))]
    InvalidOption {
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("cannot read {}: {message}", path.display())]
    #[diagnostic(
        code(socket::manifest::env_file),
        help("each line of a .env file is NAME=value; quote values with spaces or `#`")
    )]
    EnvFile { path: PathBuf, message: String },
}

impl ManifestError {
    /// Line (1-based) of an error tied to a place in the manifest.
    pub fn line(&self) -> Option<usize> {
        match self {
            ManifestError::Invalid { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// The message without file and position.
    pub fn message(&self) -> String {
        match self {
            ManifestError::Invalid { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// The help line, when there is one.
    pub fn help_text(&self) -> Option<String> {
        Diagnostic::help(self).map(|h| h.to_string())
    }
}
