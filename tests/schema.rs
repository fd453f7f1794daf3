//! `socket schema` checked by a JSON Schema validator (Python's `jsonschema`, installed with
//! moto in the test venv): every manifest the project ships validates, the ones `socket init`
//! writes too, and a misspelt key is rejected.
//!
//! Run with `cargo test -p socket-tests --test schema`.

use std::path::{Path, PathBuf};
use std::process::Command;

use socket_tests::workspace::{socket_binary, target_dir, workspace_root};

/// Validates each YAML file against the schema; prints one line per file: `ok` or the errors.
const VALIDATE: &str = r#"
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema)
for path in sys.argv[2:]:
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(open(path)))]
    print(path, "ok" if not errors else "; ".join(errors))
"#;

fn socket(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(socket_binary())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run socket");
    assert!(
        out.status.success(),
        "socket {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// `path → verdict` for each manifest.
fn validate(schema: &Path, manifests: &[PathBuf]) -> Vec<(String, String)> {
    let python = target_dir().join("moto-venv/bin/python3");
    let out = Command::new(&python)
        .args(["-c", VALIDATE])
        .arg(schema)
        .args(manifests)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the README's test command installs it)",
                python.display()
            )
        });
    assert!(
        out.status.success(),
        "the validator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (path, verdict) = line.split_once(' ').unwrap();
            (path.to_owned(), verdict.to_owned())
        })
        .collect()
}

#[test]
fn every_shipped_and_generated_manifest_validates_and_a_misspelt_key_does_not() {
    let root = workspace_root();
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("serverless.schema.json");
    std::fs::write(&schema, socket(&root, &["schema"])).unwrap();

    let mut manifests = vec![root.join("serverless.yml.example")];
    for example in ["echo", "chat", "auth"] {
        manifests.push(root.join(format!("examples/{example}/serverless.yml")));
    }
    for template in ["echo", "chat"] {
        let project = dir.path().join(format!("new-{template}"));
        std::fs::create_dir(&project).unwrap();
        socket(&project, &["init", "--template", template]);
        let manifest = project.join("serverless.yml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=./serverless.schema.json\n"),
            "{text}"
        );
        assert_eq!(
            std::fs::read_to_string(project.join("serverless.schema.json")).unwrap(),
            std::fs::read_to_string(&schema).unwrap(),
            "init writes the schema the manifest names"
        );
        manifests.push(manifest);
    }
    let misspelt = dir.path().join("misspelt.yml");
    std::fs::write(
        &misspelt,
        "name: demo\nSocket:\n  component: socket\n  inputs:\n    memroy: 512\n",
    )
    .unwrap();
    manifests.push(misspelt.clone());

    let verdicts = validate(&schema, &manifests);
    assert_eq!(verdicts.len(), manifests.len(), "{verdicts:?}");
    for (path, verdict) in &verdicts {
        if *path == misspelt.display().to_string() {
            assert!(
                verdict.contains("memroy"),
                "the misspelt key is named: {verdict}"
            );
        } else {
            assert_eq!(verdict, "ok", "{path}");
        }
    }
}
