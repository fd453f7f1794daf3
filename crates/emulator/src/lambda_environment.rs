//! The environment Lambda gives a function's process, as the emulator gives it: Lambda's own
//! variables, dummy credentials (the runtime signs management API calls; nothing local checks the
//! signature) and the management endpoint the runtime posts to.

use socket_protocol::env::MANAGEMENT_ENDPOINT;

/// What names a function's process environment.
#[derive(Clone, Debug)]
pub struct LambdaFunction<'a> {
    pub name: &'a str,
    pub region: &'a str,
    pub memory_mb: u32,
    /// `SOCKET_MANAGEMENT_ENDPOINT`: `http://host:port/stage`.
    pub management_endpoint: &'a str,
}

impl LambdaFunction<'_> {
    /// The variables Lambda sets (reserved there: they win over a function's own).
    pub fn environment(&self) -> Vec<(String, String)> {
        let name = self.name;
        [
            ("AWS_LAMBDA_FUNCTION_NAME", name.to_string()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                self.memory_mb.to_string(),
            ),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "local".to_string()),
            ("AWS_REGION", self.region.to_string()),
            ("AWS_DEFAULT_REGION", self.region.to_string()),
            (
                "AWS_EXECUTION_ENV",
                "AWS_Lambda_provided.al2023".to_string(),
            ),
            ("_HANDLER", "bootstrap".to_string()),
            ("LANG", "en_US.UTF-8".to_string()),
            ("TZ", ":UTC".to_string()),
            ("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID.to_string()),
            (
                "AWS_SECRET_ACCESS_KEY",
                "local-socket-dev-secret".to_string(),
            ),
            ("AWS_SESSION_TOKEN", "local-socket-dev-session".to_string()),
            (MANAGEMENT_ENDPOINT, self.management_endpoint.to_string()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value))
        .collect()
    }
}

/// The access key id the processes sign with.
pub const DUMMY_ACCESS_KEY_ID: &str = "AKIDLOCALSOCKETDEV00";
