//! `socket remove`: delete everything one stage owns, and nothing else.
//!
//! Ownership is decided by the resources themselves, never by the state file alone: APIs are
//! found by their `socket:service`/`socket:stage` tags, the function, the role and the
//! connection registry's table by their derived names and then checked for those tags. A resource with a stage's name but another
//! owner's tags is left alone and reported. Running it again finds nothing and says so.

use crate::aws::{apigateway, dynamodb, iam, lambda, logs, AwsError, Clients};
use crate::names::StageNames;
use std::path::Path;

use crate::state::{StageLock, State, StateError};
use socket_manifest::{Manifest, Overrides};
use socket_progress::Reporter;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RemoveError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Aws(#[from] AwsError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] StateError),
}

#[derive(Debug, Default)]
pub struct RemoveReport {
    /// What was deleted ("API abc123", "Lambda function echo-dev", ...).
    pub removed: Vec<String>,
    /// Resources with this stage's names that belong to something else, left alone.
    pub skipped: Vec<String>,
}

/// Options of `socket remove`.
#[derive(Clone, Debug, Default)]
pub struct RemoveOptions {
    pub output: crate::outputs::OutputOptions,
}

/// `socket remove`: take the stage lock, delete what the stage owns, say what was done.
pub async fn run(
    config: &Path,
    overrides: &Overrides,
    options: &RemoveOptions,
) -> miette::Result<()> {
    let reporter = options.output.start();
    let manifest = Manifest::load(config, overrides)?;
    let _lock = StageLock::acquire(&manifest.dir, &manifest.stage, "remove")?;
    let clients = crate::aws::connect(&manifest).await?;
    let result = remove(&manifest, &clients, reporter).await;
    tracing::debug!(target: "socket::aws", "{}", clients.calls.summary());
    let report = result?;
    let what = format!(
        "{} › {} in {}",
        manifest.service, manifest.stage, manifest.region
    );
    if options.output.json {
        let json = serde_json::json!({
            "service": manifest.service,
            "stage": manifest.stage,
            "region": manifest.region,
            "removed": report.removed,
            "skipped": report.skipped,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&json).expect("json serializes")
        );
    } else if report.removed.is_empty() {
        println!("  Nothing to remove: {what} has no resources left.");
    } else {
        println!("  Removed {what}: {}.", report.removed.join(", "));
    }
    Ok(())
}

/// Deletes the stage's API(s), function (with its permission), role (with its policies), the
/// connection registry's table and the function's log group, then the state file. The caller holds the stage lock.
pub async fn remove(
    manifest: &Manifest,
    clients: &Clients,
    reporter: Reporter,
) -> Result<RemoveReport, RemoveError> {
    let names = StageNames::of(manifest);
    let mut report = RemoveReport::default();

    let step = reporter.step(format!(
        "Reading {} › {} in {}",
        names.service, names.stage, names.region
    ));
    let tags = names.tags();
    let found = tokio::try_join!(
        apigateway::find_apis(clients, &tags),
        lambda::get_function(clients, &names.function),
        iam::get_role(clients, &names.role),
        dynamodb::get_table(clients, &names.table),
    );
    let (apis, function, role, table) = match found {
        Ok(found) => found,
        Err(err) => {
            step.failed();
            return Err(err.into());
        }
    };
    let function_ours = function.as_ref().is_none_or(|f| names.owns(&f.tags));
    let role = role.filter(|r| {
        let ours = names.owns(&r.tags);
        if !ours {
            report
                .skipped
                .push(format!("IAM role {} (not tagged for this stage)", r.name));
        }
        ours
    });
    let function = function.filter(|f| {
        if !function_ours {
            report.skipped.push(format!(
                "Lambda function {} (not tagged for this stage)",
                f.name
            ));
        }
        function_ours
    });
    let table = table.filter(|t| {
        let ours = names.owns(&t.tags);
        if !ours {
            report.skipped.push(format!(
                "{} {} (not tagged for this stage)",
                dynamodb::TABLE_KIND,
                t.name
            ));
        }
        ours
    });
    let count = apis.len()
        + usize::from(function.is_some())
        + usize::from(role.is_some())
        + usize::from(table.is_some());
    step.done(format!(
        "{count} resource{} found",
        if count == 1 { "" } else { "s" }
    ));

    // Domain mappings name the API: they go first, with the domain names this stage made.
    let api_ids: Vec<String> = apis.iter().map(|a| a.id.clone()).collect();
    let step = reporter.step("Deleting custom domains".to_owned());
    match crate::domain::remove(clients, &names, manifest.domain.as_ref(), &api_ids).await {
        Ok(removed) if removed.is_empty() => step.done("none"),
        Ok(removed) => {
            step.done(removed.join(", "));
            report.removed.extend(removed);
        }
        Err(err) => return Err(failed(step, err)),
    }
    for api in &apis {
        let step = reporter.step(format!("Deleting API {}", api.id));
        match apigateway::delete_api(clients, &api.id).await {
            Ok(_) => {
                step.done("with its routes, integration and stage");
                report.removed.push(format!("API {}", api.id));
            }
            Err(err) => return Err(failed(step, err)),
        }
    }
    if let Some(function) = &function {
        let step = reporter.step(format!("Deleting function {}", function.name));
        match lambda::delete_function(clients, &function.name).await {
            Ok(_) => {
                step.done("with its API Gateway permission");
                report
                    .removed
                    .push(format!("Lambda function {}", function.name));
            }
            Err(err) => return Err(failed(step, err)),
        }
    }
    if let Some(role) = &role {
        let step = reporter.step(format!("Deleting IAM role {}", role.name));
        match iam::delete_role(clients, &role.name).await {
            Ok(()) => {
                step.done("with its policies");
                report.removed.push(format!("IAM role {}", role.name));
            }
            Err(err) => return Err(failed(step, err)),
        }
    }
    if let Some(table) = &table {
        let step = reporter.step(format!("Deleting connection registry table {}", table.name));
        match dynamodb::delete_table(clients, &table.name).await {
            Ok(_) => {
                step.done("with its records");
                report
                    .removed
                    .push(format!("{} {}", dynamodb::TABLE_KIND, table.name));
            }
            Err(err) => return Err(failed(step, err)),
        }
    }
    // Lambda creates the log group on first use and never deletes it; it is ours if the
    // function name is.
    if function_ours {
        let step = reporter.step(format!("Deleting log group {}", names.log_group));
        // Looked up first, so a second remove makes no write call at all.
        let deleted = match logs::log_group_exists(clients, &names.log_group).await {
            Ok(true) => logs::delete_log_group(clients, &names.log_group).await,
            other => other,
        };
        match deleted {
            Ok(true) => {
                step.done("");
                report
                    .removed
                    .push(format!("log group {}", names.log_group));
            }
            Ok(false) => step.done("none"),
            Err(err) => return Err(failed(step, err)),
        }
    }
    State::delete(&manifest.dir, &names.stage)?;
    for skipped in &report.skipped {
        reporter.info(format!("left alone: {skipped}"));
    }
    Ok(report)
}

fn failed(step: socket_progress::Step, err: AwsError) -> RemoveError {
    step.failed();
    err.into()
}
