//! The `socket` command line tool as a library: every command is a function the
//! binary's argument parser calls, so each can be tested without the CLI layer.

pub mod aws;
pub mod build;
pub mod credentials;
pub mod deploy;
pub mod dev;
pub mod info;
pub mod init;
pub mod manifest;
pub mod outputs;
pub mod package;
pub mod progress;
pub mod remove;
pub mod state;
