//! What requests are signed with: credentials and a region, given or read once from the
//! environment (never on each call).

use std::sync::Arc;

/// AWS credentials to sign requests with.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN` (temporary credentials, e.g. a Lambda function's role).
    pub session_token: Option<String>,
}

impl Credentials {
    /// Long-term credentials (no session token).
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
        }
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, as Lambda sets them;
    /// `None` when either key is missing.
    pub fn from_env() -> Option<Self> {
        Some(Self {
            access_key_id: non_empty_env("AWS_ACCESS_KEY_ID")?,
            secret_access_key: non_empty_env("AWS_SECRET_ACCESS_KEY")?,
            session_token: non_empty_env("AWS_SESSION_TOKEN"),
        })
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Who signs requests and for which region, settled once (a handler's come from the runtime's
/// configuration, read at start-up; a program's from [`Signing::from_env`] or given). Cheap to
/// clone. Without credentials a call fails with a credentials error; without a region, a
/// management call signs for the region in an `execute-api` host name, else `us-east-1`.
#[derive(Clone, Debug, Default)]
pub struct Signing {
    credentials: Option<Arc<Credentials>>,
    region: Option<Arc<str>>,
}

impl Signing {
    /// These credentials (if any) and region (if any).
    pub fn new(credentials: Option<Credentials>, region: Option<String>) -> Self {
        Self {
            credentials: credentials.map(Arc::new),
            region: region.map(Into::into),
        }
    }

    /// [`Credentials::from_env`] and `AWS_REGION` (else `AWS_DEFAULT_REGION`), read now.
    pub fn from_env() -> Self {
        Self::new(Credentials::from_env(), region_from_env())
    }

    /// The credentials requests are signed with.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_deref()
    }

    /// The signing region, when one is set.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
}

/// An environment variable, unless unset or empty.
pub(crate) fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

/// `AWS_REGION` (set by Lambda), else `AWS_DEFAULT_REGION`.
pub(crate) fn region_from_env() -> Option<String> {
    non_empty_env("AWS_REGION").or_else(|| non_empty_env("AWS_DEFAULT_REGION"))
}
