//! [`Config`]: what the runtime takes from the environment, read once when it starts rather than
//! on every event.

use std::fmt;
use std::sync::Arc;

use socket_client::{Credentials, Registry, Signing};
use socket_protocol::env::{MANAGEMENT_ENDPOINT, ROUTE_SELECTION};
use socket_protocol::route_selection::DEFAULT_ROUTE_SELECTION;

/// The runtime's configuration: route selection, management API endpoint, signing credentials
/// and region, and the connection registry.
///
/// [`Router::run`](crate::Router::run) reads it with [`Config::from_env`] once at start-up; a
/// router dispatching events itself ([`Router::dispatch`](crate::Router::dispatch),
/// [`testing::TestApp`](crate::testing::TestApp)) does so on its first event, unless it was given
/// one with [`Router::config`](crate::Router::config):
///
/// ```
/// use socket_runtime::{Config, Router};
///
/// let config = Config::new()
///     .route_selection("$request.body.action")
///     .management_endpoint("http://127.0.0.1:3111/dev")
///     .credentials("AKIDEXAMPLE", "secret", None)
///     .region("eu-west-3");
/// let router = Router::new().config(config);
/// # let _ = router;
/// ```
#[derive(Clone)]
pub struct Config {
    route_selection: String,
    /// Shared with every event's management API, so a configured endpoint is not copied per event.
    management_endpoint: Option<Arc<str>>,
    /// The keys and region management API and registry requests are signed with.
    signing: Signing,
    registry: Option<Registry>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            route_selection: DEFAULT_ROUTE_SELECTION.to_string(),
            management_endpoint: None,
            signing: Signing::default(),
            registry: None,
        }
    }
}

impl Config {
    /// Nothing configured: route selection `$request.body.route`, the endpoint derived from each
    /// event, no credentials (sends fail with [`SendError::Credentials`](crate::SendError::Credentials)),
    /// no registry (its calls fail with [`RegistryError::Disabled`](crate::RegistryError::Disabled)).
    pub fn new() -> Self {
        Self::default()
    }

    /// What Lambda, `socket deploy` and `socket dev` put in the environment:
    /// `SOCKET_ROUTE_SELECTION`, `SOCKET_MANAGEMENT_ENDPOINT`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` (else `AWS_DEFAULT_REGION`),
    /// and the registry's `SOCKET_REGISTRY_TABLE`, `SOCKET_REGISTRY_ENDPOINT`,
    /// `SOCKET_REGISTRY_TTL` (signed with the credentials and region above). Unset and empty
    /// variables count as absent; an unusable registry endpoint is logged and leaves the registry off.
    pub fn from_env() -> Self {
        let read = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.trim().is_empty())
        };
        let mut config = Self::new();
        if let Some(expression) = read(ROUTE_SELECTION) {
            config = config.route_selection(expression);
        }
        if let Some(endpoint) = read(MANAGEMENT_ENDPOINT) {
            config = config.management_endpoint(endpoint);
        }
        if let (Some(access_key_id), Some(secret_access_key)) =
            (read("AWS_ACCESS_KEY_ID"), read("AWS_SECRET_ACCESS_KEY"))
        {
            config =
                config.credentials(access_key_id, secret_access_key, read("AWS_SESSION_TOKEN"));
        }
        if let Some(region) = read("AWS_REGION").or_else(|| read("AWS_DEFAULT_REGION")) {
            config = config.region(region);
        }
        match Registry::from_env_signed(&config.signing) {
            Ok(Some(registry)) => config = config.registry(registry),
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "the connection registry is off"),
        }
        config
    }

    /// The route selection expression, e.g. `$request.body.action` or `$request.body.meta.action`.
    pub fn route_selection(mut self, expression: impl Into<String>) -> Self {
        self.route_selection = expression.into().trim().to_string();
        self
    }

    /// The management API endpoint for every event (custom domains, the local emulator) instead
    /// of `https://{domainName}/{stage}` from the event. An empty one means "from the event".
    pub fn management_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        let endpoint = endpoint.into();
        let endpoint = endpoint.trim().trim_end_matches('/');
        self.management_endpoint = (!endpoint.is_empty()).then(|| Arc::from(endpoint));
        self
    }

    /// The keys management API requests are signed with.
    pub fn credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        let credentials = Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token,
        };
        let region = self.signing.region().map(str::to_string);
        self.signing = Signing::new(Some(credentials), region);
        self
    }

    /// The signing region (else the one in an `execute-api` host name, else `us-east-1`).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        let credentials = self.signing.credentials().cloned();
        self.signing = Signing::new(credentials, Some(region.into()));
        self
    }

    /// The connection registry handlers use ([`Socket::join`](crate::Socket::join),
    /// [`Socket::broadcast`](crate::Socket::broadcast), ...) and the runtime records
    /// connections in.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// The route selection expression in effect.
    pub fn route_selection_expression(&self) -> &str {
        &self.route_selection
    }

    /// The configured management endpoint, without a trailing `/`.
    pub fn management_endpoint_override(&self) -> Option<&str> {
        self.management_endpoint.as_deref()
    }

    /// The connection registry, when one is configured.
    pub fn registry_in_use(&self) -> Option<&Registry> {
        self.registry.as_ref()
    }

    pub(crate) fn shared_management_endpoint(&self) -> Option<&Arc<str>> {
        self.management_endpoint.as_ref()
    }

    /// The field path after `$request.body.` (e.g. `meta.action`); `None` when the expression
    /// does not select from the body, and every message goes to `default`.
    pub(crate) fn route_path(&self) -> Option<&str> {
        self.route_selection
            .strip_prefix("$request.body.")
            .filter(|path| !path.is_empty())
    }

    pub(crate) fn signing(&self) -> &Signing {
        &self.signing
    }
}

/// Never prints the secret or the session token.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("route_selection", &self.route_selection)
            .field("management_endpoint", &self.management_endpoint)
            .field(
                "access_key_id",
                &self.signing.credentials().map(|c| &c.access_key_id),
            )
            .field("region", &self.signing.region())
            .field(
                "registry_table",
                &self.registry.as_ref().map(Registry::table),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_normalized_and_empty_means_from_the_event() {
        let config = Config::new().management_endpoint(" http://127.0.0.1:3111/dev/ ");
        assert_eq!(
            config.management_endpoint_override(),
            Some("http://127.0.0.1:3111/dev")
        );
        assert_eq!(
            config
                .management_endpoint("")
                .management_endpoint_override(),
            None
        );
    }

    #[test]
    fn the_route_path_is_the_part_after_request_body() {
        assert_eq!(Config::new().route_path(), Some("route"));
        let nested = Config::new().route_selection(" $request.body.meta.action ");
        assert_eq!(nested.route_path(), Some("meta.action"));
        assert_eq!(
            Config::new()
                .route_selection("$request.header.x")
                .route_path(),
            None
        );
        assert_eq!(
            Config::new().route_selection("$request.body.").route_path(),
            None
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let config = Config::new().credentials("AKID", "top-secret", Some("token-value".into()));
        let shown = format!("{config:?}");
        assert!(shown.contains("AKID"), "{shown}");
        assert!(
            !shown.contains("top-secret") && !shown.contains("token-value"),
            "{shown}"
        );
    }
}
