//! Shared helpers for the end-to-end tests.

pub mod artifacts;
pub mod chromium;
pub mod deploy_project;
pub mod echo_checks;
pub mod echo_project;
pub mod http_client;
pub mod moto;
pub mod socket_dev;
pub mod socket_run;
pub mod static_files;
pub mod workspace;
pub mod ws_client;
