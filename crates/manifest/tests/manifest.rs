//! `serverless.yml` loading: defaults, variables, stages, and errors that point at the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use socket_manifest::{Architecture, Manifest, ManifestError, Overrides};

/// A project folder with a handler crate stub, so `code` checks pass.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"h\"\n").unwrap();
        Project { dir }
    }

    fn write(&self, name: &str, text: &str) -> &Project {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("serverless.yml")
    }

    fn load_env(
        &self,
        manifest: &str,
        stage: Option<&str>,
        env: &[(&str, &str)],
    ) -> Result<Manifest, ManifestError> {
        self.write("serverless.yml", manifest);
        let overrides = Overrides {
            stage: stage.map(str::to_string),
            ..Overrides::default()
        };
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Manifest::load_with_env(&self.path(), &overrides, env)
    }

    fn load(&self, manifest: &str) -> Result<Manifest, ManifestError> {
        self.load_env(manifest, None, &[])
    }
}

/// Asserts an error at `line` whose message contains `message` and help contains `help`.
fn assert_error(result: Result<Manifest, ManifestError>, line: usize, message: &str, help: &str) {
    let err = result.expect_err("the manifest should be refused");
    assert_eq!(err.line(), Some(line), "wrong line for: {err}");
    assert!(
        err.message().contains(message),
        "message `{}` lacks `{message}`",
        err.message()
    );
    let got_help = err.help_text().unwrap_or_default();
    assert!(got_help.contains(help), "help `{got_help}` lacks `{help}`");
    // The rendered error names the file with line and column.
    assert!(
        err.to_string().contains(&format!("serverless.yml:{line}:")),
        "{err}"
    );
}

const MINIMAL: &str = "name: chat\nSocket:\n  component: socket\n";

#[test]
fn minimal_manifest_gets_documented_defaults() {
    let p = Project::new();
    let m = p.load(MINIMAL).unwrap();
    assert_eq!(m.service, "chat");
    assert_eq!((m.stage.as_str(), m.default_stage.as_str()), ("dev", "dev"));
    assert_eq!(m.region, "us-east-1");
    assert_eq!((m.memory, m.timeout), (512, 10));
    assert_eq!(m.architecture, Architecture::Arm64);
    assert_eq!(m.route_selection, "$request.body.route");
    assert_eq!(m.code, p.dir.path());
    assert_eq!(m.dir, p.dir.path());
    assert!(m.routes.is_empty() && m.env.is_empty());
    assert!(m.warnings().is_empty());
}

#[test]
fn original_component_shape_loads() {
    let p = Project::new();
    p.write("code/Cargo.toml", "[package]\nname = \"c\"\n");
    let m = p
        .load(
            "name: my-socket\nstage: dev\n\nSocket:\n  component: \"@serverless/socket\"\n  inputs:\n    name: my-socket\n    description: My Socket Backend\n    region: eu-west-1\n    memory: 128\n    timeout: 10\n    architecture: x86_64\n    env:\n      TABLE_NAME: my-table\n    code: ./code\n    routes: [message]\n",
        )
        .unwrap();
    assert_eq!(m.region, "eu-west-1");
    assert_eq!(m.memory, 128);
    assert_eq!(m.architecture, Architecture::X86_64);
    assert_eq!(m.env["TABLE_NAME"], "my-table");
    assert_eq!(m.code, p.dir.path().join("./code"));
    assert_eq!(m.routes, vec!["message"]);
    assert_eq!(m.description.as_deref(), Some("My Socket Backend"));
}

#[test]
fn repository_example_loads_for_each_stage() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../serverless.yml.example");
    let dev = Manifest::load_with_env(&example, &Overrides::default(), BTreeMap::new()).unwrap();
    assert_eq!(dev.service, "my-socket");
    assert_eq!(dev.memory, 512);
    assert_eq!(dev.env["TABLE_NAME"], "my-socket-dev-table");
    assert_eq!(dev.description.as_deref(), Some("My Socket Backend (dev)"));
    assert_eq!(dev.routes, vec!["message"]);
    assert_eq!(dev.connections, None, "the registry is off by default");
    let prod = Manifest::load_with_env(
        &example,
        &Overrides {
            stage: Some("prod".into()),
            region: Some("eu-central-1".into()),
            ..Overrides::default()
        },
        BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(prod.memory, 1024);
    assert_eq!(prod.region, "eu-central-1");
    assert_eq!(prod.env["TABLE_NAME"], "my-socket-prod-table");
    assert_eq!(prod.env["LOG_LEVEL"], "info");
}

#[test]
fn misspelt_input_key_is_refused_with_a_suggestion() {
    let p = Project::new();
    let r = p.load("name: chat\nSocket:\n  component: socket\n  inputs:\n    description: x\n    regoin: us-east-1\n");
    assert_error(r, 6, "unknown key `regoin`", "did you mean `region`?");
}

#[test]
fn misspelt_top_level_key_is_refused_with_a_suggestion() {
    let p = Project::new();
    let r = p.load("name: chat\nstge: prod\nSocket:\n  component: socket\n");
    assert_error(r, 2, "unknown key `stge`", "did you mean `stage`?");
}

#[test]
fn misspelt_component_block_key_is_refused() {
    let p = Project::new();
    let r = p.load("name: chat\nSocket:\n  component: socket\n  input:\n    memory: 128\n");
    assert_error(r, 4, "unknown key `input`", "did you mean `inputs`?");
}

#[test]
fn wrong_types_are_refused() {
    let p = Project::new();
    let r = p.load("name: chat\nSocket:\n  component: socket\n  inputs:\n    memory: lots\n");
    assert_error(
        r,
        5,
        "memory must be a whole number of MB, not `lots`",
        "128 to 10240",
    );
    let r = p.load("name: chat\nSocket:\n  component: socket\n  inputs:\n    routes: message\n");
    assert_error(r, 5, "invalid type", "");
    let r = p.load("name: chat\nSocket:\n  component: socket\n  inputs:\n    env: [A]\n");
    assert_error(r, 5, "invalid type", "");
}

#[test]
fn out_of_range_values_are_refused() {
    let p = Project::new();
    let base = "name: chat\nSocket:\n  component: socket\n  inputs:\n";
    assert_error(
        p.load(&format!("{base}    memory: 64\n")),
        5,
        "memory 64 is out of range (128 to 10240 MB)",
        "",
    );
    assert_error(
        p.load(&format!("{base}    memory: 10241\n")),
        5,
        "out of range",
        "",
    );
    assert_error(
        p.load(&format!("{base}    timeout: 0\n")),
        5,
        "timeout 0 is out of range",
        "",
    );
    assert_error(
        p.load(&format!("{base}    timeout: 901\n")),
        5,
        "timeout 901 is out of range",
        "",
    );
    assert_error(
        p.load(&format!("{base}    architecture: arm\n")),
        5,
        "unknown architecture `arm`",
        "arm64",
    );
    assert_error(
        p.load(&format!("{base}    region: moon-1\n")),
        5,
        "not an AWS region",
        "us-east-1",
    );
    assert_error(
        p.load(&format!("{base}    routeSelection: route\n")),
        5,
        "not a WebSocket route selection",
        "",
    );
    assert_error(
        p.load(&format!("{base}    routes: [\"$connect\"]\n")),
        5,
        "always routed",
        "",
    );
}

#[test]
fn long_timeout_is_allowed_with_a_warning() {
    let p = Project::new();
    let m = p
        .load("name: chat\nSocket:\n  component: socket\n  inputs:\n    timeout: 60\n")
        .unwrap();
    assert_eq!(m.timeout, 60);
    assert!(m.warnings()[0].contains("29 s"), "{:?}", m.warnings());
}

#[test]
fn missing_code_folder_is_refused() {
    let p = Project::new();
    let r = p.load("name: chat\nSocket:\n  component: socket\n  inputs:\n    memory: 128\n    code: ./handler\n");
    assert_error(r, 6, "code folder `./handler` does not exist", "Cargo.toml");
    std::fs::create_dir(p.dir.path().join("handler")).unwrap();
    let r = p.load("name: chat\nSocket:\n  component: socket\n  inputs:\n    memory: 128\n    code: ./handler\n");
    assert_error(r, 6, "has no Cargo.toml", "");
}

#[test]
fn names_that_make_invalid_or_too_long_aws_names_are_refused() {
    let p = Project::new();
    let long = "a".repeat(50);
    assert_error(
        p.load(&format!("name: {long}\nSocket:\n  component: socket\n")),
        1,
        "exceed AWS's 64-character limit",
        "at most 52 characters",
    );
    // The stage counts too, including one given on the command line.
    let name = "a".repeat(45);
    let manifest = format!("name: {name}\nSocket:\n  component: socket\n");
    assert!(p.load_env(&manifest, Some("dev"), &[]).is_ok());
    assert_error(
        p.load_env(&manifest, Some("production"), &[]),
        1,
        "64-character limit",
        "",
    );
    // inputs.name names the resources when set.
    let r = p.load(&format!(
        "name: chat\nSocket:\n  component: socket\n  inputs:\n    name: {long}\n"
    ));
    assert_error(r, 5, "64-character limit", "");
    assert_error(
        p.load("name: my socket!\nSocket:\n  component: socket\n"),
        1,
        "cannot name AWS resources",
        "letters, digits",
    );
    assert_error(
        p.load("name: chat\nstage: pr/od\nSocket:\n  component: socket\n"),
        2,
        "stage name `pr/od`",
        "",
    );
    let err = p.load_env(MINIMAL, Some("a b"), &[]).unwrap_err();
    assert!(err.to_string().contains("--stage"), "{err}");
    let r = p.load(
        "name: chat\nSocket:\n  component: socket\n  inputs:\n    env:\n      AWS_REGION: x\n",
    );
    assert_error(r, 6, "reserved by Lambda", "");
    let r =
        p.load("name: chat\nSocket:\n  component: socket\n  inputs:\n    env:\n      1BAD: x\n");
    assert_error(r, 6, "not a valid environment variable name", "");
}

#[test]
fn structure_errors_are_refused() {
    let p = Project::new();
    assert_error(p.load("name: chat\n"), 1, "no component block", "");
    assert_error(
        p.load("name: chat\nSocket:\n  component: websocket\n"),
        3,
        "not socket",
        "@serverless/socket",
    );
    assert_error(
        p.load("name: chat\nA:\n  component: socket\nB:\n  component: socket\n"),
        4,
        "second component block `B`",
        "",
    );
    assert_error(
        p.load("name: chat\nSocket:\n  component: socket\n  inputs: {memory: 128\n"),
        5,
        "while parsing a flow mapping",
        "",
    );
    assert_error(
        p.load("Socket:\n  component: socket\n"),
        1,
        "no name",
        "name:",
    );
}

#[test]
fn variables_resolve_from_stage_name_and_environment() {
    let p = Project::new();
    let manifest = "name: chat\nSocket:\n  component: socket\n  inputs:\n    description: ${name} on ${stage}\n    env:\n      TABLE: ${env:TABLE_NAME}\n      ID: ${name}-${stage}\n";
    let m = p
        .load_env(manifest, Some("qa"), &[("TABLE_NAME", "from-process")])
        .unwrap();
    assert_eq!(m.description.as_deref(), Some("chat on qa"));
    assert_eq!(m.env["TABLE"], "from-process");
    assert_eq!(m.env["ID"], "chat-qa");
    // Numbers can come from variables too.
    let m = p
        .load_env(
            "name: chat\nSocket:\n  component: socket\n  inputs:\n    memory: ${env:MEM}\n",
            None,
            &[("MEM", "2048")],
        )
        .unwrap();
    assert_eq!(m.memory, 2048);
}

#[test]
fn unset_environment_variable_is_named_at_its_line() {
    let p = Project::new();
    let r = p.load("name: chat\nSocket:\n  component: socket\n  inputs:\n    env:\n      TABLE: ${env:TABLE_NAME}\n");
    assert_error(r, 6, "environment variable `TABLE_NAME` is not set", ".env");
    let r =
        p.load("name: chat\nSocket:\n  component: socket\n  inputs:\n    description: ${nope}\n");
    assert_error(r, 5, "unknown variable `${nope}`", "${env:NAME}");
}

#[test]
fn env_files_follow_the_stage_and_the_process_environment_wins() {
    let p = Project::new();
    p.write(".env", "TABLE_NAME=dev-table\nONLY_FILE=dev-file\n");
    p.write(".env.prod", "TABLE_NAME=prod-table\nONLY_FILE=prod-file\n");
    let manifest = "name: chat\nstage: dev\nSocket:\n  component: socket\n  inputs:\n    env:\n      TABLE: ${env:TABLE_NAME}\n      ONLY: ${env:ONLY_FILE}\n";
    let dev = p.load_env(manifest, None, &[]).unwrap();
    assert_eq!(
        (dev.env["TABLE"].as_str(), dev.env["ONLY"].as_str()),
        ("dev-table", "dev-file")
    );
    let prod = p.load_env(manifest, Some("prod"), &[]).unwrap();
    assert_eq!(
        (prod.env["TABLE"].as_str(), prod.env["ONLY"].as_str()),
        ("prod-table", "prod-file")
    );
    let overridden = p
        .load_env(manifest, Some("prod"), &[("TABLE_NAME", "process")])
        .unwrap();
    assert_eq!(
        (
            overridden.env["TABLE"].as_str(),
            overridden.env["ONLY"].as_str()
        ),
        ("process", "prod-file")
    );
    // A stage with no file of its own does not read .env.
    let err = p.load_env(manifest, Some("qa"), &[]).unwrap_err();
    assert!(err.message().contains("TABLE_NAME"), "{err}");
    assert!(err.help_text().unwrap().contains(".env.qa"), "{err:?}");
}

#[test]
fn stage_precedence_is_flag_then_manifest_then_dev() {
    let p = Project::new();
    let m = p
        .load_env(
            "name: chat\nstage: staging\nSocket:\n  component: socket\n",
            None,
            &[],
        )
        .unwrap();
    assert_eq!(
        (m.stage.as_str(), m.default_stage.as_str()),
        ("staging", "staging")
    );
    assert_eq!(m.env_file(), p.dir.path().join(".env"));
    let m = p
        .load_env(
            "name: chat\nstage: staging\nSocket:\n  component: socket\n",
            Some("prod"),
            &[],
        )
        .unwrap();
    assert_eq!(
        (m.stage.as_str(), m.default_stage.as_str()),
        ("prod", "staging")
    );
    assert_eq!(m.env_file(), p.dir.path().join(".env.prod"));
    assert_eq!(m.output_dir(), p.dir.path().join(".socket/prod"));
    assert_eq!(m.resource_prefix(), "chat-prod");
}

#[test]
fn region_precedence_is_flag_then_manifest_then_environment_then_default() {
    let p = Project::new();
    let with_region =
        "name: chat\nSocket:\n  component: socket\n  inputs:\n    region: eu-west-1\n";
    let env = [("AWS_REGION", "ap-south-1")];
    assert_eq!(
        p.load_env(MINIMAL, None, &env).unwrap().region,
        "ap-south-1"
    );
    assert_eq!(
        p.load_env(with_region, None, &env).unwrap().region,
        "eu-west-1"
    );
    p.write("serverless.yml", with_region);
    let flagged = Manifest::load_with_env(
        &p.path(),
        &Overrides {
            region: Some("us-west-2".into()),
            ..Overrides::default()
        },
        BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(flagged.region, "us-west-2");
    p.write(".env", "AWS_REGION=sa-east-1\n");
    assert_eq!(p.load_env(MINIMAL, None, &[]).unwrap().region, "sa-east-1");
}

#[test]
fn stage_blocks_merge_over_inputs_and_other_stages_are_not_resolved() {
    let p = Project::new();
    let manifest = "name: chat\nSocket:\n  component: socket\n  inputs:\n    memory: 256\n    env:\n      A: a\n      B: b\n    stages:\n      prod:\n        memory: 2048\n        env:\n          B: prod-b\n          SECRET: ${env:PROD_ONLY}\n";
    let dev = p.load_env(manifest, None, &[]).unwrap();
    assert_eq!(dev.memory, 256);
    assert_eq!(dev.env.len(), 2);
    let prod = p
        .load_env(manifest, Some("prod"), &[("PROD_ONLY", "s")])
        .unwrap();
    assert_eq!(prod.memory, 2048);
    assert_eq!(
        (
            prod.env["A"].as_str(),
            prod.env["B"].as_str(),
            prod.env["SECRET"].as_str()
        ),
        ("a", "prod-b", "s")
    );
    // Other stages' blocks are still checked for typos and ranges.
    let typo = "name: chat\nSocket:\n  component: socket\n  inputs:\n    stages:\n      prod:\n        memroy: 2048\n";
    assert_error(
        p.load(typo),
        7,
        "unknown key `memroy`",
        "did you mean `memory`?",
    );
    let range = "name: chat\nSocket:\n  component: socket\n  inputs:\n    stages:\n      prod:\n        memory: 20\n";
    assert_error(p.load(range), 7, "out of range", "");
}

#[test]
fn errors_name_the_value_path_and_its_column() {
    let p = Project::new();
    let err = p
        .load("name: chat\nSocket:\n  component: socket\n  inputs:\n    memory: 64\n")
        .unwrap_err();
    assert!(
        err.message()
            .starts_with("Socket.inputs.memory: memory 64 is out of range"),
        "{err}"
    );
    assert!(err.to_string().contains("serverless.yml:5:13:"), "{err}");
    // In a flow mapping the column is the value's own.
    let err = p
        .load("name: chat\nSocket:\n  component: socket\n  inputs: {timeout: 0}\n")
        .unwrap_err();
    assert!(err.to_string().contains("serverless.yml:4:21:"), "{err}");
    let err = p
        .load("name: chat\nSocket:\n  component: socket\n  inputs:\n    routes: [message, \"$default\"]\n")
        .unwrap_err();
    assert!(
        err.message().starts_with("Socket.inputs.routes[1]:"),
        "{err}"
    );
}

#[test]
fn env_values_keep_the_text_as_written() {
    let p = Project::new();
    let m = p
        .load("name: chat\nSocket:\n  component: socket\n  inputs:\n    env:\n      VERSION: 1.10\n      ENABLED: true\n      PORT: 0x10\n      QUOTED: \"007\"\n")
        .unwrap();
    assert_eq!(m.env["VERSION"], "1.10");
    assert_eq!(m.env["ENABLED"], "true");
    assert_eq!(m.env["PORT"], "0x10");
    assert_eq!(m.env["QUOTED"], "007");
}

#[test]
fn yaml_constructs_are_refused_where_they_are() {
    let p = Project::new();
    let base = "name: chat\nSocket:\n  component: socket\n  inputs:\n";
    assert_error(
        p.load(&format!(
            "{base}    memory: 256\n    timeout: 5\n    memory: 512\n"
        )),
        7,
        "duplicate entry with key \"memory\"",
        "keep one",
    );
    assert_error(
        p.load(&format!("{base}    description: !Ref Something\n")),
        5,
        "tag `!Ref` is not supported",
        "${env:NAME}",
    );
    assert_error(
        p.load("name: chat\nSocket:\n  component: socket\n---\nname: other\n"),
        4,
        "more than one document",
        "---",
    );
    assert_error(
        p.load(&format!("{base}    memory: [128\n")),
        6,
        "while parsing a flow sequence",
        "",
    );
    // Aliases are expanded: one env block shared by two stages.
    let m = p
        .load_env(
            &format!("{base}    env: &common\n      A: a\n    stages:\n      prod:\n        env: *common\n"),
            Some("prod"),
            &[],
        )
        .unwrap();
    assert_eq!(m.env["A"], "a");
}

#[test]
fn block_shapes_are_checked() {
    let p = Project::new();
    assert_error(
        p.load("name: chat\nSocket:\n  inputs:\n    memory: 128\n"),
        3,
        "Socket: missing field `component`",
        "component:",
    );
    assert_error(
        p.load("name: chat\nSocket:\n  component: socket\n  inputs: [memory]\n"),
        4,
        "invalid type: sequence, expected the component's inputs",
        "",
    );
    assert_error(
        p.load("name: chat\nSocket:\n  component: socket\n  inputs:\n    stages:\n      prod:\n        stages: {}\n"),
        7,
        "`stages` cannot be nested inside a stage",
        "directly under `inputs.stages`",
    );
    assert_error(
        p.load("name: chat\nSocket:\n  component: socket\n  inputs:\n    stages:\n      prod:\n        env: [A]\n"),
        7,
        "Socket.inputs.stages.prod.env: invalid type: sequence",
        "",
    );
    assert_error(
        p.load("- name\n- chat\n"),
        1,
        "not a mapping of keys to values",
        "socket init",
    );
    // A key written with no value counts as absent.
    let m = p
        .load("name: chat\nSocket:\n  component: socket\n  inputs:\n    memory:\n    stages:\n      prod:\n")
        .unwrap();
    assert_eq!(m.memory, 512);
}

#[test]
fn connections_turn_the_registry_on_with_a_table_per_stage() {
    let base = "name: chat\nSocket:\n  component: socket\n  inputs:\n";
    let project = Project::new();
    project.write("serverless.yml", &format!("{base}    connections: true\n"));
    let manifest = Manifest::load(&project.path(), &Overrides::default()).unwrap();
    let registry = manifest.connections.expect("registry on");
    assert_eq!(registry.table, "chat-dev-connections");
    assert_eq!(registry.ttl, socket_manifest::DEFAULT_REGISTRY_TTL);

    project.write(
        "serverless.yml",
        &format!("{base}    connections:\n      ttl: 7200\n    stages:\n      prod:\n        connections: false\n"),
    );
    let dev = Manifest::load(&project.path(), &Overrides::default()).unwrap();
    assert_eq!(dev.connections.map(|r| r.ttl), Some(7200));
    let prod = Manifest::load(
        &project.path(),
        &Overrides {
            stage: Some("prod".into()),
            ..Overrides::default()
        },
    )
    .unwrap();
    assert_eq!(prod.connections, None);

    project.write(
        "serverless.yml",
        &format!("{base}    connections: sometimes\n"),
    );
    let error = Manifest::load(&project.path(), &Overrides::default()).unwrap_err();
    let text = format!("{error:?}");
    assert!(text.contains("not true or false"), "{text}");
    assert!(text.contains("line: 5"), "the line is named: {text}");

    project.write(
        "serverless.yml",
        &format!("{base}    connections:\n      ttl: 5\n"),
    );
    let text = format!(
        "{:?}",
        Manifest::load(&project.path(), &Overrides::default()).unwrap_err()
    );
    assert!(text.contains("out of range"), "{text}");
}

#[test]
fn function_permissions_tags_and_concurrency_are_read() {
    let p = Project::new();
    let m = p
        .load(
            "name: chat\nSocket:\n  component: socket\n  inputs:\n    iamRoleStatements:\n      - effect: Allow\n        actions: [s3:GetObject, 's3:List*']\n        resources:\n          - arn:aws:s3:::uploads/*\n      - effect: Deny\n        actions: sqs:*\n        resources: '*'\n    tags:\n      team: chat\n      cost-center: '42'\n    reservedConcurrency: 0\n    stages:\n      prod:\n        tags:\n          team: platform\n        reservedConcurrency: 50\n",
        )
        .unwrap();
    assert_eq!(
        m.statements,
        vec![
            socket_manifest::Statement {
                effect: socket_manifest::Effect::Allow,
                actions: vec!["s3:GetObject".into(), "s3:List*".into()],
                resources: vec!["arn:aws:s3:::uploads/*".into()],
            },
            socket_manifest::Statement {
                effect: socket_manifest::Effect::Deny,
                actions: vec!["sqs:*".into()],
                resources: vec!["*".into()],
            },
        ]
    );
    assert_eq!(m.tags.get("team").map(String::as_str), Some("chat"));
    assert_eq!(m.reserved_concurrency, Some(0));
    let prod = p
        .load_env(
            &std::fs::read_to_string(p.path()).unwrap(),
            Some("prod"),
            &[],
        )
        .unwrap();
    // Tags merge key by key over the stage's block.
    assert_eq!(prod.tags.get("team").map(String::as_str), Some("platform"));
    assert_eq!(prod.tags.get("cost-center").map(String::as_str), Some("42"));
    assert_eq!(prod.reserved_concurrency, Some(50));

    let none = p.load(MINIMAL).unwrap();
    assert!(none.statements.is_empty() && none.tags.is_empty());
    assert_eq!(none.reserved_concurrency, None);
}

#[test]
fn bad_statements_tags_and_concurrency_are_refused_at_their_line() {
    let p = Project::new();
    let base = "name: chat\nSocket:\n  component: socket\n  inputs:\n";
    let statement =
        |body: &str| format!("{base}    iamRoleStatements:\n      - effect: Allow\n{body}");
    // Serverless Framework spelling: an unknown key, with the key this manifest uses.
    assert_error(
        p.load(&statement(
            "        Action: [s3:GetObject]\n        resources: ['*']\n",
        )),
        7,
        "unknown key `Action`",
        "did you mean `actions`?",
    );
    assert_error(
        p.load(&statement(
            "        actions: [s3:GetObject]\n        resources: ['*']\n        condition: {}\n",
        )),
        9,
        "unknown key `condition`",
        "effect, actions, resources",
    );
    assert_error(
        p.load(&statement("        actions: [s3:GetObject]\n")),
        6,
        "missing field `resources`",
        "resources:",
    );
    assert_error(
        p.load(&format!("{base}    iamRoleStatements:\n      - effect: Permit\n        actions: ['*']\n        resources: ['*']\n")),
        6,
        "`Permit` is not an IAM effect",
        "Allow",
    );
    assert_error(
        p.load(&statement("        actions:\n          - s3:GetObject\n          - GetObject\n        resources: ['*']\n")),
        9,
        "`GetObject` is not an IAM action",
        "service:Action",
    );
    assert_error(
        p.load(&statement(
            "        actions: ['*']\n        resources: [my-bucket]\n",
        )),
        8,
        "`my-bucket` is not a resource ARN",
        "arn:aws:s3:::my-bucket/*",
    );
    assert_error(
        p.load(&statement(
            "        actions: []\n        resources: ['*']\n",
        )),
        7,
        "the list is empty",
        "s3:GetObject",
    );
    assert_error(
        p.load(&format!(
            "{base}    iamRoleStatements:\n      effect: Allow\n"
        )),
        6,
        "expected a list of statements",
        "",
    );
    assert_error(
        p.load(&format!(
            "{base}    tags:\n      team: chat\n      socket:stage: prod\n"
        )),
        7,
        "tag `socket:stage` is socket's own",
        "without the `socket:` prefix",
    );
    assert_error(
        p.load(&format!("{base}    tags:\n      aws:owner: me\n")),
        6,
        "`aws:` prefix",
        "AWS reserves",
    );
    assert_error(
        p.load(&format!("{base}    tags:\n      team: 'a|b'\n")),
        6,
        "not a tag value",
        "256",
    );
    assert_error(
        p.load(&format!("{base}    reservedConcurrency: -1\n")),
        5,
        "reservedConcurrency -1 is out of range",
        "0 or more",
    );
}
