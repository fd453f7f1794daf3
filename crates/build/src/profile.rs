//! The cargo profiles the tool builds with, passed as `--config` so the user's Cargo.toml and their
//! own `cargo build` stay untouched.

/// How a build is tuned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// What Lambda runs: small and quick to start (size is download and page-in time at cold start).
    Lambda,
    /// What `socket dev` runs: the Lambda profile minus the settings that make rebuilds slow,
    /// so a save restarts workers in about a second. Measured on the echo template (x86_64 musl,
    /// 2 cores), rebuilding after a one-line change of a reply: the Lambda profile 26 s (fat LTO
    /// of every dependency); with `lto = false` 5.2 s, most of it rustc's crate-local ThinLTO
    /// (which `false` still runs); with `lto = "off"` 2.0 s, and 1.2 s linked with rust-lld.
    Dev,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Lambda => "socket-lambda",
            Profile::Dev => "socket-dev",
        }
    }

    /// `--config` values defining the profile.
    pub fn config_args(self) -> Vec<String> {
        let name = self.name();
        let settings: &[(&str, &str)] = match self {
            Profile::Lambda => &[
                ("inherits", "\"release\""),
                ("opt-level", "\"s\""),
                ("lto", "true"),
                ("codegen-units", "1"),
                // Unwinding stays on: lambda_runtime turns a handler panic into an error for that one
                // invocation (a 500 for that message) instead of a crashed process and a cold start.
                ("panic", "\"unwind\""),
                ("strip", "true"),
                ("debug", "false"),
                ("incremental", "false"),
            ],
            Profile::Dev => &[
                ("inherits", "\"release\""),
                ("opt-level", "1"),
                ("lto", "\"off\""),
                ("codegen-units", "16"),
                ("panic", "\"unwind\""),
                ("strip", "false"),
                ("debug", "\"line-tables-only\""),
                ("incremental", "true"),
                // Dependencies and the runtime are built once, so they can be fully optimised at
                // no cost to the rebuild on save; they are most of what a request runs through.
                ("package.\"*\".opt-level", "3"),
                ("package.socket-runtime.opt-level", "3"),
            ],
        };
        settings
            .iter()
            .flat_map(|(key, value)| {
                [
                    "--config".to_string(),
                    format!("profile.{name}.{key}={value}"),
                ]
            })
            .collect()
    }
}
