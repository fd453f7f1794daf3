//! The `socket` command line tool as a library: every command is a function the
//! binary's argument parser calls, so each can be tested without the CLI layer.

pub mod dev;
pub mod manifest;
pub mod progress;
