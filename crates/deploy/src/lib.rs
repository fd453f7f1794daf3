//! Deploying a socket service to AWS without CloudFormation: direct SDK calls that converge what
//! exists on what the manifest and the build want.
//!
//! - [`credentials`]: the stage's credentials (env file, process environment, the AWS chain);
//! - [`aws`]: the SDK clients and one module per service;
//! - [`names`]: every resource name (and ARN) of a stage;
//! - [`desired`]: what the manifest and the build want;
//! - [`observe`]: what exists, read from AWS;
//! - [`plan`]: the difference, as a list of changes;
//! - `apply`: making the changes;
//! - [`deploy`]: the command: lock, package, observe, plan, apply, outputs;
//! - [`state`]: `.socket/<stage>/state.json` and the per-stage lock;
//! - [`outputs`]: what deploy and info print;
//! - [`permissions`]: every IAM action the commands need (the README table, the AccessDenied help);
//! - [`info`] and [`remove`]: the other two commands over the same names and observation.

mod apply;
pub mod aws;
pub mod credentials;
pub mod deploy;
pub mod desired;
pub mod info;
pub mod names;
pub mod observe;
pub mod outputs;
pub mod permissions;
pub mod plan;
pub mod remove;
pub mod state;
