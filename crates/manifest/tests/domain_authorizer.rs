//! `domain:` and `authorizer:`: read, defaulted, and refused at the line when wrong.

use socket_manifest::{Authorizer, Domain, Manifest, ManifestError, Overrides};

fn load(manifest: &str) -> Result<Manifest, ManifestError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"h\"\n").unwrap();
    let path = dir.path().join("serverless.yml");
    std::fs::write(&path, manifest).unwrap();
    Manifest::load_with_env(&path, &Overrides::default(), Default::default())
}

fn with_inputs(inputs: &str) -> String {
    format!("name: chat\nSocket:\n  component: socket\n  inputs:\n    region: eu-west-1\n{inputs}")
}

fn assert_error(result: Result<Manifest, ManifestError>, line: usize, message: &str, help: &str) {
    let err = result.expect_err("the manifest should be refused");
    assert_eq!(err.line(), Some(line), "wrong line for: {err}");
    assert!(err.message().contains(message), "{}", err.message());
    assert!(
        err.help_text().unwrap_or_default().contains(help),
        "{:?}",
        err.help_text()
    );
}

const CERT: &str = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d";

#[test]
fn a_domain_block_is_read_with_its_base_path() {
    let manifest = load(&with_inputs(&format!(
        "    domain:\n      name: Chat.Example.com\n      certificate: {CERT}\n      basePath: /v1/\n"
    )))
    .unwrap();
    let domain = manifest.domain.unwrap();
    assert_eq!(
        domain,
        Domain {
            name: "chat.example.com".into(),
            certificate: CERT.into(),
            base_path: "v1".into(),
        }
    );
    assert_eq!(domain.url(), "wss://chat.example.com/v1");
    assert!(load(&with_inputs("")).unwrap().domain.is_none());
}

#[test]
fn a_certificate_of_another_region_is_refused_at_its_line() {
    let other = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d";
    assert_error(
        load(&with_inputs(&format!(
            "    domain:\n      name: chat.example.com\n      certificate: {other}\n"
        ))),
        8,
        "the certificate is in us-east-1, but the stage deploys to eu-west-1",
        "in eu-west-1",
    );
}

#[test]
fn malformed_domain_inputs_are_refused_at_their_line() {
    assert_error(
        load(&with_inputs(
            "    domain:\n      name: chat.example.com\n      certificate: arn:aws:iam::123456789012:role/x\n",
        )),
        8,
        "is not an ACM certificate ARN",
        "AWS Certificate Manager",
    );
    assert_error(
        load(&with_inputs(&format!(
            "    domain:\n      name: https://chat.example.com\n      certificate: {CERT}\n"
        ))),
        7,
        "is not a domain name",
        "no scheme",
    );
    assert_error(
        load(&with_inputs(&format!(
            "    domain:\n      name: chat.example.com\n      certificate: {CERT}\n      basePath: v1//x\n"
        ))),
        9,
        "is not a base path",
        "path segments",
    );
    assert_error(
        load(&with_inputs("    domain:\n      name: chat.example.com\n")),
        7,
        "missing field `certificate`",
        "certificate:",
    );
}

#[test]
fn an_authorizer_names_its_identity_sources() {
    let manifest = load(&with_inputs(
        "    authorizer:\n      identitySources:\n        - route.request.querystring.token\n        - route.request.header.Authorization\n",
    ))
    .unwrap();
    assert_eq!(
        manifest.authorizer,
        Some(Authorizer {
            identity_sources: vec![
                "route.request.querystring.token".into(),
                "route.request.header.Authorization".into(),
            ],
        })
    );
    assert_error(
        load(&with_inputs(
            "    authorizer:\n      identitySources: [route.request.body.token]\n",
        )),
        7,
        "is not an identity source",
        "route.request.querystring.<name>",
    );
    assert_error(
        load(&with_inputs("    authorizer:\n      identitySource: []\n")),
        7,
        "unknown key `identitySource`",
        "identitySources",
    );
}
