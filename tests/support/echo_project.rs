//! A copy of `examples/echo` as a standalone crate in a temporary folder, for tests that let
//! `socket dev` build (and rebuild) the handler itself.

use std::path::Path;

use crate::socket_dev::SocketDev;
use crate::workspace::workspace_root;

/// Removed with its folder when dropped.
pub struct EchoProject {
    dir: tempfile::TempDir,
}

impl EchoProject {
    pub fn new() -> EchoProject {
        let root = workspace_root();
        let temp = tempfile::Builder::new()
            .prefix("socket-dev-watch-")
            .tempdir()
            .unwrap();
        let dir = temp.path();
        std::fs::create_dir_all(dir.join("src")).unwrap();
        let example = root.join("examples/echo");
        std::fs::copy(example.join("src/main.rs"), dir.join("src/main.rs")).unwrap();
        std::fs::copy(example.join("serverless.yml"), dir.join("serverless.yml")).unwrap();
        // Same dependency versions as the workspace, so the crates are already downloaded.
        std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        let runtime = root.join("runtime").display().to_string();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"echo\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
                 [workspace]\n\n[dependencies]\nsocket-runtime = {{ path = {runtime:?} }}\n\
                 tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\", \"time\"] }}\n\
                 serde_json = \"1\"\n"
            ),
        )
        .unwrap();
        EchoProject { dir: temp }
    }

    /// The project's folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `socket dev` building and watching this copy, for `--worker-target <worker_target>`, in a
    /// target folder of its own that outlives the test (only the first run builds cold).
    pub fn socket_dev(&self, worker_target: &str) -> SocketDev {
        let args: Vec<String> = [
            "dev",
            "--config",
            &self.dir().join("serverless.yml").display().to_string(),
            "--port",
            "0",
            "--workers",
            "2",
            "--worker-target",
            worker_target,
            // The first invocation of freshly swapped workers can be slow on a loaded machine;
            // these tests are about the build and the swap, not the function timeout.
            "--timeout",
            "30",
        ]
        .iter()
        .map(|arg| arg.to_string())
        .collect();
        let target = workspace_root()
            .join("target")
            .join("socket-dev-watch-test");
        SocketDev::start_with_env(
            &args,
            &[("CARGO_TARGET_DIR", &target.display().to_string())],
        )
    }

    pub fn edit(&self, file: &str, change: impl FnOnce(String) -> String) {
        let path = self.dir().join(file);
        let source = std::fs::read_to_string(&path).unwrap();
        let changed = change(source.clone());
        assert_ne!(source, changed, "the edit changed nothing in {file}");
        std::fs::write(path, changed).unwrap();
    }
}

impl Default for EchoProject {
    fn default() -> Self {
        EchoProject::new()
    }
}
