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
//! - [`dry_run`]: `deploy --dry-run` / `plan`: the plan printed, nothing applied;
//! - [`authorizer`] and [`domain`]: the `$connect` authorizer and the custom domain, observed,
//!   planned and removed like the rest;
//! - [`state`]: `.socket/<stage>/state.json` and the per-stage lock;
//! - [`outputs`]: what deploy and info print;
//! - [`info`] and [`remove`]: the other two commands over the same names and observation;
//! - [`logs`]: `socket logs`, the function's log group read and followed.
//! - [`send_target`]: where `socket send` reaches a deployed stage.
//! - [`permissions`]: every IAM action the commands need (the README table, the AccessDenied help);
//! - [`info`] and [`remove`]: the other two commands over the same names and observation.

mod apply;
pub mod authorizer;
pub mod aws;
pub mod credentials;
pub mod deploy;
pub mod desired;
pub mod domain;
pub mod dry_run;
pub mod function_settings;
pub mod info;
pub mod logs;
pub mod names;
pub mod observe;
pub mod outputs;
pub mod permissions;
pub mod plan;
pub mod remove;
pub mod send_target;
pub mod state;
