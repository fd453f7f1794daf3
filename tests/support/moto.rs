//! A local AWS for the deploy tests: `moto` in server mode on a free loopback port, one server
//! per test (so tests run in parallel without seeing each other), and SDK clients pointed at it.
//!
//! moto is looked up in `target/moto-venv/` first (where the README's test command installs
//! it), then with the `python3` on `PATH`; `moto_server.py` adds the API Gateway deployments
//! moto does not implement. Everything uses dummy credentials and never looks for real ones.

use std::net::TcpStream;
use std::process::Command;

use crate::workspace::target_dir;

pub const REGION: &str = "us-east-1";
/// The account moto reports for every resource.
pub const ACCOUNT: &str = "123456789012";
pub const ACCESS_KEY: &str = "testing";
pub const SECRET_KEY: &str = "testing";

pub struct Moto {
    /// The server process, killed on drop.
    _server: socket_client::conformance::Moto,
    pub port: u16,
}

/// moto's server with the deployments it lacks (`moto_server.py` beside this file), run by the
/// venv's Python under `target/`, else by `python3` from `PATH`.
fn moto_server() -> Command {
    let venv = target_dir().join("moto-venv").join("bin").join("python3");
    let mut command = Command::new(if venv.is_file() {
        venv.into_os_string()
    } else {
        "python3".into()
    });
    command.arg(crate::workspace::workspace_root().join("tests/support/moto_server.py"));
    // AWS's managed policies loaded: the role attaches one.
    command.env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true");
    command
}

impl Moto {
    /// Starts moto and waits until it answers.
    pub fn start() -> Moto {
        let server = socket_client::conformance::Moto::start_with(moto_server);
        Moto {
            port: server.port(),
            _server: server,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment the `socket` binary gets: this endpoint, dummy credentials, no lookups
    /// beyond loopback.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint().as_str()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_REGION", REGION),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// SDK clients on this server, to check what exists.
    pub fn clients(&self) -> Aws {
        let credentials =
            aws_sdk_iam::config::Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "tests");
        let config = aws_config::SdkConfig::builder()
            .region(aws_config::Region::new(REGION))
            .endpoint_url(self.endpoint())
            .credentials_provider(aws_sdk_iam::config::SharedCredentialsProvider::new(
                credentials,
            ))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .http_client(socket_deploy::aws::http_client())
            .build();
        Aws {
            iam: aws_sdk_iam::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            apigateway: aws_sdk_apigatewayv2::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            dynamodb: aws_sdk_dynamodb::Client::new(&config),
        }
    }

    /// From now on moto checks signatures and IAM policies (before this, anything goes).
    pub fn enforce_auth(&self) {
        http_post(self.port, "/moto-api/reset-auth", "0");
    }

    /// Back to accepting anything.
    pub fn relax_auth(&self) {
        http_post(self.port, "/moto-api/reset-auth", "inf");
    }
}

/// A bare HTTP/1.1 POST (moto's control API), without pulling an HTTP client into the tests.
fn http_post(port: u16, path: &str, body: &str) {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("moto is listening");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("request sent");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    assert!(
        response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
        "{response}"
    );
}

/// SDK clients for the services a stage uses.
pub struct Aws {
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub apigateway: aws_sdk_apigatewayv2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
}
