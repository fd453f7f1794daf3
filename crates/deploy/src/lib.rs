//! Deploying a socket service to AWS without CloudFormation: direct SDK calls that converge what
//! exists on what the manifest and the build want.
//!
//! - [`credentials`]: the stage's credentials (env file, process environment, the AWS chain);
//! - [`aws`]: the SDK clients and one module per service;
//! - [`deploy`]: observe what exists, plan the difference, apply it;
//! - [`state`]: `.socket/<stage>/state.json` and the per-stage lock;
//! - [`outputs`]: what deploy and info print;
//! - [`info`] and [`remove`]: the other two commands over the same observation.

pub mod aws;
pub mod credentials;
pub mod deploy;
pub mod info;
pub mod outputs;
pub mod remove;
pub mod state;
