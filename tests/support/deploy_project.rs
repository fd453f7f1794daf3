//! The project the deploy tests run the real `socket` binary on: a copy of the echo example's
//! manifest in its own folder, a small zip holding `bootstrap` (passed with `--package`, so no
//! test waits for a cross-compiled build), and its own moto server every command is pointed at.
//! `Project::builder("noop").deployed("dev").start()` is a project whose stage `dev` is deployed.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::moto::{Aws, Moto, REGION};
use crate::socket_run::Run;
use crate::workspace::{socket_binary, target_dir, workspace_root};

/// The service name the manifest declares.
pub const SERVICE: &str = "echo";

/// What the manifest says, for the fields the tests change.
#[derive(Clone)]
pub struct Spec {
    pub memory: u32,
    pub timeout: u32,
    pub routes: Vec<&'static str>,
    pub env: Vec<(&'static str, &'static str)>,
    /// `connections: true` (the connection registry).
    pub connections: bool,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            memory: 256,
            timeout: 10,
            routes: vec!["message"],
            env: vec![("TABLE_NAME", "echo-table")],
            connections: false,
        }
    }
}

/// The project with a [`Spec`] (the default one unless given) and code `v1`, on a moto server of its own.
pub struct Project {
    pub dir: PathBuf,
    /// The environment every command gets: moto's endpoint and dummy credentials.
    pub env: Vec<(String, String)>,
    /// Stops when the project is dropped.
    pub moto: Moto,
    /// SDK clients on `moto`, to check what exists.
    pub aws: Aws,
}

/// Sets up a [`Project`]: [`Project::builder`], then [`ProjectBuilder::start`].
pub struct ProjectBuilder {
    name: String,
    spec: Spec,
    deployed: Vec<String>,
}

impl ProjectBuilder {
    /// Writes this manifest instead of the default one.
    pub fn spec(mut self, spec: Spec) -> ProjectBuilder {
        self.spec = spec;
        self
    }

    /// Deploys `stage` once the project is written (stages in the order given; each must
    /// succeed).
    pub fn deployed(mut self, stage: &str) -> ProjectBuilder {
        self.deployed.push(stage.to_owned());
        self
    }

    /// Starts moto, writes the project and runs the deploys.
    pub fn start(self) -> Project {
        let moto = Moto::start();
        // `CARGO_TARGET_TMPDIR` of the test binaries.
        let dir = target_dir().join("tmp").join("deploy").join(format!(
            "{}-{}",
            self.name,
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let project = Project {
            dir,
            env: moto.env(),
            aws: moto.clients(),
            moto,
        };
        project.write_manifest(&self.spec);
        project.write_code("v1");
        for stage in &self.deployed {
            project.deploy(stage);
        }
        project
    }
}

impl Project {
    /// A project in a folder named after `name` (and this process).
    pub fn builder(name: &str) -> ProjectBuilder {
        ProjectBuilder {
            name: name.to_owned(),
            spec: Spec::default(),
            deployed: Vec::new(),
        }
    }

    pub fn write_manifest(&self, spec: &Spec) {
        self.write_manifest_with(spec, "");
    }

    /// [`Project::write_manifest`] with `extra_inputs` (YAML lines indented under `inputs:`)
    /// appended, for inputs `Spec` does not model.
    pub fn write_manifest_with(&self, spec: &Spec, extra_inputs: &str) {
        let code = workspace_root().join("examples").join("echo");
        let mut yaml = format!(
            "name: {SERVICE}\nstage: dev\n\nSocket:\n  component: socket\n  inputs:\n    region: {REGION}\n    \
             description: Echo (${{stage}})\n    memory: {}\n    timeout: {}\n    architecture: arm64\n    code: {}\n",
            spec.memory,
            spec.timeout,
            code.display()
        );
        if !spec.env.is_empty() {
            yaml.push_str("    env:\n");
            for (k, v) in &spec.env {
                yaml.push_str(&format!("      {k}: {v}\n"));
            }
        }
        if !spec.routes.is_empty() {
            yaml.push_str("    routes:\n");
            for r in &spec.routes {
                yaml.push_str(&format!("      - {r}\n"));
            }
        }
        if spec.connections {
            yaml.push_str("    connections: true\n");
        }
        yaml.push_str(extra_inputs);
        std::fs::write(self.dir.join("serverless.yml"), yaml).unwrap();
    }

    /// A zip holding an executable `bootstrap` whose content is `version`.
    pub fn write_code(&self, version: &str) {
        let file = std::fs::File::create(self.zip()).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .unix_permissions(0o755);
        zip.start_file("bootstrap", options).unwrap();
        zip.write_all(format!("#!/bin/sh\n# {version}\n").as_bytes())
            .unwrap();
        zip.finish().unwrap();
    }

    pub fn zip(&self) -> PathBuf {
        self.dir.join("bootstrap.zip")
    }

    pub fn state_file(&self, stage: &str) -> PathBuf {
        self.dir.join(".socket").join(stage).join("state.json")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(socket_binary());
        cmd.args(args)
            .arg("--config")
            .arg(self.dir.join("serverless.yml"))
            .current_dir(&self.dir)
            // Nothing from the developer's own AWS setup may leak in.
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("SOCKET_LOG")
            .env("HOME", &self.dir)
            .env("AWS_CONFIG_FILE", self.dir.join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.join("no-aws-credentials"),
            )
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// `socket <args> --config serverless.yml`, run to the end.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.command(args).output().expect("socket runs");
        Run {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `socket deploy --stage S --package bootstrap.zip --json -v`, which must succeed.
    pub fn deploy(&self, stage: &str) -> Run {
        let zip = self.zip();
        self.run(&[
            "deploy",
            "--stage",
            stage,
            "--package",
            zip.to_str().unwrap(),
            "--json",
            "-v",
        ])
        .success()
    }

    /// `socket deploy --dry-run --stage S --package bootstrap.zip --json -v`, which must succeed.
    pub fn dry_run(&self, stage: &str) -> Run {
        let zip = self.zip();
        self.run(&[
            "deploy",
            "--dry-run",
            "--stage",
            stage,
            "--package",
            zip.to_str().unwrap(),
            "--json",
            "-v",
        ])
        .success()
    }

    /// Starts a deploy with human progress on stderr, for tests that act while it runs.
    pub fn spawn_deploy(&self, stage: &str) -> Child {
        let zip = self.zip();
        self.command(&[
            "deploy",
            "--stage",
            stage,
            "--package",
            zip.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("socket runs")
    }

    /// Starts `socket <args>` with stdout piped, for commands that keep running (`logs --tail`).
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("socket runs")
    }

    /// `socket remove --stage S -v`, which must succeed.
    pub fn remove(&self, stage: &str) -> Run {
        self.run(&["remove", "--stage", stage, "-v"]).success()
    }
}
