//! `socket init`: write a new project from a template in `templates/` (embedded in the binary).
//!
//! The generated crate depends on `socket-runtime` by path, pointing at the `runtime/` folder of
//! the source checkout this binary was built from, and is its own workspace root so it builds
//! wherever it is created.

use std::path::{Path, PathBuf};

use miette::Diagnostic;

/// One template: its name, a one-line description, and its files (path, contents).
pub struct Template {
    pub name: &'static str,
    pub description: &'static str,
    files: &'static [(&'static str, &'static str)],
}

/// The manifest's JSON Schema, which the first line of every template's `serverless.yml` names
/// for editors (`# yaml-language-server: $schema=./serverless.schema.json`).
const SCHEMA_FILE: (&str, &str) = (
    "serverless.schema.json",
    include_str!("../../manifest/serverless.schema.json"),
);

pub const TEMPLATES: &[Template] = &[
    Template {
        name: "echo",
        description: "echo, whoami and send-to-another-connection handlers",
        files: &[
            (
                "serverless.yml",
                include_str!("../../../templates/echo/serverless.yml"),
            ),
            (
                "Cargo.toml",
                include_str!("../../../templates/echo/Cargo.toml"),
            ),
            (
                "src/main.rs",
                include_str!("../../../templates/echo/src/main.rs"),
            ),
            (
                ".env.example",
                include_str!("../../../templates/echo/env.example"),
            ),
            (
                ".gitignore",
                include_str!("../../../templates/echo/gitignore"),
            ),
            (
                "README.md",
                include_str!("../../../templates/echo/README.md"),
            ),
            SCHEMA_FILE,
        ],
    },
    Template {
        name: "chat",
        description: "rooms, presence and broadcast on the connection registry (examples/chat)",
        files: &[
            (
                "serverless.yml",
                include_str!("../../../templates/chat/serverless.yml"),
            ),
            // The same crate manifest as echo's: socket-runtime by path, its own workspace.
            (
                "Cargo.toml",
                include_str!("../../../templates/echo/Cargo.toml"),
            ),
            // The handlers and page of examples/chat, so the template is the tested example.
            (
                "src/main.rs",
                include_str!("../../../examples/chat/src/main.rs"),
            ),
            (
                "index.html",
                include_str!("../../../examples/chat/index.html"),
            ),
            (
                ".env.example",
                include_str!("../../../templates/echo/env.example"),
            ),
            (
                ".gitignore",
                include_str!("../../../templates/echo/gitignore"),
            ),
            (
                "README.md",
                include_str!("../../../templates/chat/README.md"),
            ),
            SCHEMA_FILE,
        ],
    },
];

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum InitError {
    #[error("unknown template `{name}`")]
    #[diagnostic(code(socket::init::template), help("available templates: {available}"))]
    UnknownTemplate { name: String, available: String },

    #[error("{} already has {}", dir.display(), existing.join(", "))]
    #[diagnostic(
        code(socket::init::exists),
        help("nothing was written; run `socket init` in a new folder (`socket init my-socket`) or remove those files")
    )]
    Exists { dir: PathBuf, existing: Vec<String> },

    #[error("cannot write {}: {source}", path.display())]
    #[diagnostic(code(socket::init::io), help("check that the folder is writable"))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The runtime crate of the checkout this binary was built from.
pub fn runtime_path() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../runtime");
    std::fs::canonicalize(&path).unwrap_or(path)
}

/// What `socket init` wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// The service name, from the folder's name.
    pub service: String,
    /// The files written, relative to the project folder.
    pub files: Vec<&'static str>,
}

/// Writes the project; refuses (writing nothing) if any of its files exists.
pub fn init(dir: &Path, template: &str) -> Result<Created, InitError> {
    let Some(template) = TEMPLATES.iter().find(|t| t.name == template) else {
        return Err(InitError::UnknownTemplate {
            name: template.to_string(),
            available: TEMPLATES
                .iter()
                .map(|t| t.name)
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let existing: Vec<String> = template
        .files
        .iter()
        .filter(|(path, _)| dir.join(path).exists())
        .map(|(path, _)| path.to_string())
        .collect();
    if !existing.is_empty() {
        return Err(InitError::Exists {
            dir: dir.to_path_buf(),
            existing,
        });
    }

    let dir_abs = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let name = service_name(&dir_abs);
    let runtime = runtime_path();
    for (path, contents) in template.files {
        let text = contents
            .replace("{{name}}", &name)
            .replace("{{crate_name}}", &name.replace('-', "_"))
            .replace("{{runtime_path}}", &runtime.display().to_string());
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|source| InitError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&target, text).map_err(|source| InitError::Io {
            path: target.clone(),
            source,
        })?;
    }
    Ok(Created {
        service: name,
        files: template.files.iter().map(|(path, _)| *path).collect(),
    })
}

/// A valid service name from the folder's name: `My Socket!` → `my-socket`.
fn service_name(dir: &Path) -> String {
    let raw = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let mut name = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    let name = name.trim_end_matches('-').to_string();
    let name = if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name
    } else {
        format!("socket-{name}").trim_end_matches('-').to_string()
    };
    // Leave room for the stage within AWS's name limits.
    name.chars()
        .take(32)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::service_name;
    use std::path::Path;

    #[test]
    fn service_names_come_from_the_folder() {
        assert_eq!(service_name(Path::new("/x/my-socket")), "my-socket");
        assert_eq!(service_name(Path::new("/x/My Socket!")), "my-socket");
        assert_eq!(service_name(Path::new("/x/42")), "socket-42");
        assert_eq!(service_name(Path::new("/")), "socket");
    }

    #[test]
    fn the_chat_template_is_the_chat_example_with_the_registry_on() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("my-chat");
        super::init(&project, "chat").unwrap();
        let read = |name: &str| std::fs::read_to_string(project.join(name)).unwrap();
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/chat");
        assert_eq!(
            read("src/main.rs"),
            std::fs::read_to_string(example.join("src/main.rs")).unwrap()
        );
        assert!(project.join("index.html").is_file());
        let manifest = read("serverless.yml");
        assert!(manifest.contains("name: my-chat\n"), "{manifest}");
        assert!(manifest.contains("connections: true"), "{manifest}");
        assert!(
            manifest.contains("routes: [join, say, leave]"),
            "{manifest}"
        );
        assert!(read("Cargo.toml").contains("name = \"my_chat\""));
        assert!(!read("Cargo.toml").contains("{{"));
    }
}
