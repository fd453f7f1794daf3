//! Errors that point into the manifest: file, line, column and a label under the spot.

use std::path::Path;
use std::sync::Arc;

use miette::{NamedSource, SourceSpan};

use super::yaml::Span;
use super::ManifestError;

/// The manifest file being read, to place errors in.
pub(crate) struct Located<'a> {
    pub path: &'a Path,
    pub src: &'a str,
}

impl Located<'_> {
    /// An error at `span`; the label covers at most the span's first line.
    pub fn at(&self, span: Span, message: String, help: Option<String>) -> ManifestError {
        let index = span.offset.min(self.src.len());
        let before = &self.src[..index];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let rest = &self.src[index..];
        let len = span.len.min(rest.find('\n').unwrap_or(rest.len()));
        ManifestError::Invalid {
            path: self.path.to_path_buf(),
            line,
            column,
            message,
            help,
            src: Arc::new(
                NamedSource::new(self.path.display().to_string(), self.src.to_string())
                    .with_language("yaml"),
            ),
            span: SourceSpan::new(index.into(), len),
        }
    }

    /// An error about the file as a whole, at its start.
    pub fn at_start(&self, message: &str, help: &str) -> ManifestError {
        self.at(
            Span { offset: 0, len: 0 },
            message.to_string(),
            Some(help.to_string()),
        )
    }
}
