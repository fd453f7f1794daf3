//! `socket deploy --dry-run` (also `socket plan`): what a deploy would change, without changing
//! it.
//!
//! The same steps as [`crate::deploy`] up to the plan (the code is built, or read from
//! `--package`, because its hash decides whether the function's code changes), then the plan
//! is printed instead of applied: only read calls reach AWS. No stage lock is taken: nothing is
//! written, and a plan printed while a deploy runs is simply out of date.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::deploy::{code_bundle, read_plan};
use crate::desired::Desired;
use crate::names::StageNames;
use crate::outputs::OutputOptions;
use crate::plan::{Action, Change, Plan};
use crate::state::State;
use socket_manifest::{Manifest, Overrides};

/// Options of `socket deploy --dry-run` and `socket plan`.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// Compare against this zip (holding `bootstrap`) instead of building the handler crate.
    pub package: Option<PathBuf>,
    pub output: OutputOptions,
}

/// Loads the manifest, gets the code, reads the stage and prints the plan. Exits 0 whatever
/// the plan holds: a plan is an answer, not a failure.
pub async fn run(
    config: &Path,
    overrides: &Overrides,
    options: &PlanOptions,
) -> miette::Result<()> {
    let reporter = options.output.start();
    let manifest = Manifest::load(config, overrides)?;
    for warning in manifest.warnings() {
        reporter.info(format!("warning: {warning}"));
    }
    let clients = crate::aws::connect(&manifest).await?;
    let code = code_bundle(&manifest, options.package.as_deref(), reporter).await?;
    let desired = Desired::new(&manifest, &code);
    let names = &desired.names;
    let recorded = State::load(&manifest.dir, &names.service, &names.stage, &names.region);
    let result = read_plan(&clients, &desired, recorded.as_ref(), reporter).await;
    tracing::debug!(target: "socket::aws", "{}", clients.calls.summary());
    let (_, plan) = result?;
    if options.output.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan_json(names, &plan)).expect("json serializes")
        );
    } else {
        print!("{}", plan_text(names, &plan));
    }
    Ok(())
}

/// `{"service", "stage", "region", "changes": [{"resource", "action", "fields"}]}`.
pub fn plan_json(names: &StageNames, plan: &Plan) -> Value {
    let changes: Vec<Value> = plan.iter().map(change_json).collect();
    json!({
        "service": names.service,
        "stage": names.stage,
        "region": names.region,
        "changes": changes,
    })
}

fn change_json(change: &Change) -> Value {
    let (action, fields) = match &change.action {
        Action::Create => ("create", &[][..]),
        Action::Update(fields) => ("update", fields.as_slice()),
        Action::Delete => ("delete", &[][..]),
    };
    json!({
        "resource": change.resource.to_string(),
        "action": action,
        "fields": fields,
    })
}

/// One line per change: `+ create`, `~ update (fields)`, `- delete`.
pub fn plan_text(names: &StageNames, plan: &Plan) -> String {
    let what = format!("{} › {} in {}", names.service, names.stage, names.region);
    if plan.is_empty() {
        return format!("\n  No changes: {what} already matches the manifest and the code.\n");
    }
    let count = plan.len();
    let mut out = format!(
        "\n  Plan for {what}: {count} change{} (nothing was changed)\n",
        if count == 1 { "" } else { "s" }
    );
    for change in plan {
        let line = match &change.action {
            Action::Create => format!("  + create {}", change.resource),
            Action::Update(fields) => {
                format!("  ~ update {} ({})", change.resource, fields.join(", "))
            }
            Action::Delete => format!("  - delete {}", change.resource),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Resource;

    fn sample() -> Plan {
        Plan::from_changes(vec![
            Change::update(Resource::Function, vec!["memory", "env"]),
            Change::create(Resource::Route {
                key: "chat".into(),
                id: None,
            }),
            Change::delete(Resource::Route {
                key: "old".into(),
                id: Some("r1".into()),
            }),
        ])
    }

    #[test]
    fn json_names_resource_action_and_fields() {
        let names = StageNames::new("echo", "dev", "us-east-1");
        let value = plan_json(&names, &sample());
        assert_eq!(
            value["changes"],
            json!([
                {"resource": "function", "action": "update", "fields": ["memory", "env"]},
                {"resource": "route chat", "action": "create", "fields": []},
                {"resource": "route old", "action": "delete", "fields": []},
            ])
        );
        assert_eq!(value["stage"], "dev");
    }

    #[test]
    fn text_has_one_line_per_change() {
        let names = StageNames::new("echo", "dev", "us-east-1");
        let text = plan_text(&names, &sample());
        assert!(text.contains("3 changes"), "{text}");
        assert!(
            text.contains("  ~ update function (memory, env)\n"),
            "{text}"
        );
        assert!(text.contains("  + create route chat\n"), "{text}");
        assert!(text.contains("  - delete route old\n"), "{text}");
        assert!(plan_text(&names, &Plan::default()).contains("No changes"));
    }
}
