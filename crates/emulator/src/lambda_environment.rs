//! The environment Lambda gives a function's process, as the emulator gives it: Lambda's own
//! variables, credentials (dummy ones unless `socket dev --aws` hands over the stage's real
//! ones: the runtime signs management API calls, and nothing local checks the signature) and
//! the management endpoint the runtime posts to.

use socket_protocol::env::MANAGEMENT_ENDPOINT;

/// What names a function's process environment.
#[derive(Clone, Debug)]
pub struct LambdaFunction<'a> {
    pub name: &'a str,
    pub region: &'a str,
    pub memory_mb: u32,
    /// `SOCKET_MANAGEMENT_ENDPOINT`: `http://host:port/stage`.
    pub management_endpoint: &'a str,
    /// The stage's real credentials (`socket dev --aws`); `None` gives the dummy ones.
    pub credentials: Option<&'a AwsCredentials>,
}

/// Credentials the workers get instead of the dummy ones, so local handlers reach real AWS
/// services as the deployed function would. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
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
            (MANAGEMENT_ENDPOINT, self.management_endpoint.to_string()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value))
        .chain(self.credential_variables())
        .collect()
    }

    fn credential_variables(&self) -> Vec<(String, String)> {
        let (key, secret, token) = match self.credentials {
            Some(real) => (
                real.access_key_id.clone(),
                real.secret_access_key.clone(),
                real.session_token.clone(),
            ),
            None => (
                DUMMY_ACCESS_KEY_ID.to_string(),
                "local-socket-dev-secret".to_string(),
                Some("local-socket-dev-session".to_string()),
            ),
        };
        let mut variables = vec![
            ("AWS_ACCESS_KEY_ID".to_string(), key),
            ("AWS_SECRET_ACCESS_KEY".to_string(), secret),
        ];
        variables.extend(token.map(|t| ("AWS_SESSION_TOKEN".to_string(), t)));
        variables
    }
}

/// The access key id the processes sign with.
pub const DUMMY_ACCESS_KEY_ID: &str = "AKIDLOCALSOCKETDEV00";
