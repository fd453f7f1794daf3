//! One finished `socket` command: its exit status and what it printed, with the AWS calls a
//! `-v` run logs.

use std::process::ExitStatus;

use serde_json::Value;

pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn success(self) -> Run {
        assert!(
            self.status.success(),
            "socket failed ({})\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn failure(self) -> Run {
        assert!(
            !self.status.success(),
            "socket should have failed\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// Every AWS operation the command made (`-v` logs each as `aws call Service.Operation`).
    pub fn calls(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter_map(|l| l.split("aws call ").nth(1))
            .map(|c| c.split_whitespace().next().unwrap_or_default().to_owned())
            .collect()
    }

    /// The calls that change something.
    pub fn writes(&self) -> Vec<String> {
        let read = |op: &str| {
            ["Get", "List", "Describe", "Filter"]
                .iter()
                .any(|p| op.starts_with(p))
        };
        self.calls()
            .into_iter()
            .filter(|c| !read(c.rsplit('.').next().unwrap()))
            .collect()
    }
}
