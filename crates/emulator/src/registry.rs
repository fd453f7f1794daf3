//! The connection registry under `socket dev`: which table and endpoint the workers are told,
//! and the local endpoint's tables when `socket dev` serves them itself.

use std::sync::Arc;

use socket_manifest::Manifest;
use socket_protocol::env;
use tokio::task::JoinHandle;

use super::dynamodb::{self, Store};
use super::RegistryOptions;

/// The registry as the workers reach it.
pub struct Registry {
    pub table: String,
    pub endpoint: String,
    /// The tables `socket dev` serves at `/@dynamodb`; `None` when the registry lives at another
    /// endpoint (DynamoDB Local, moto).
    pub local: Option<Arc<Store>>,
    sweeper: Option<JoinHandle<()>>,
}

impl Registry {
    /// Sets the registry up for `manifest`'s stage; `origin` is `socket dev`'s `host:port`.
    /// Serving it locally creates the table, as `socket deploy` does on AWS.
    pub fn start(options: &RegistryOptions, manifest: &Manifest, origin: &str) -> Self {
        let table = options
            .table
            .clone()
            .unwrap_or_else(|| format!("{}-connections", manifest.resource_prefix()));
        match &options.endpoint {
            Some(endpoint) => Self {
                table,
                endpoint: endpoint.clone(),
                local: None,
                sweeper: None,
            },
            None => {
                let store = dynamodb::registry_store(&manifest.region, &table);
                let sweeper = dynamodb::sweep_periodically(Arc::clone(&store));
                Self {
                    table,
                    endpoint: format!("http://{origin}{}", dynamodb::PATH),
                    local: Some(store),
                    sweeper: Some(sweeper),
                }
            }
        }
    }

    /// The variables that switch the runtime's registry on and point it here.
    pub fn environment(&self) -> [(&'static str, String); 2] {
        [
            (env::REGISTRY_TABLE, self.table.clone()),
            (env::REGISTRY_ENDPOINT, self.endpoint.clone()),
        ]
    }

    /// One line for the start-up banner.
    pub fn describe(&self) -> String {
        match self.local {
            Some(_) => format!(
                "connection registry: table {} at {} (in memory)",
                self.table, self.endpoint
            ),
            None => format!(
                "connection registry: table {} at {} (create it there with key pk (S, HASH), sk (S, RANGE))",
                self.table, self.endpoint
            ),
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(sweeper) = &self.sweeper {
            sweeper.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::Path;

    use serde_json::json;
    use socket_manifest::Overrides;

    fn echo_manifest() -> Manifest {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/echo/serverless.yml");
        Manifest::load_with_env(&path, &Overrides::default(), BTreeMap::new()).unwrap()
    }

    fn variable<'a>(environment: &'a [(String, String)], name: &str) -> Option<&'a str> {
        environment
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    #[tokio::test]
    async fn served_locally_the_workers_reach_socket_dev_and_the_table_exists() {
        let manifest = echo_manifest();
        let registry = Registry::start(&RegistryOptions::default(), &manifest, "127.0.0.1:3111");
        let table = format!("{}-connections", manifest.resource_prefix());
        let environment =
            super::super::worker_environment(&manifest, "http://x", Some(&registry), None);
        assert_eq!(
            variable(&environment, env::REGISTRY_TABLE),
            Some(table.as_str())
        );
        assert_eq!(
            variable(&environment, env::REGISTRY_ENDPOINT),
            Some("http://127.0.0.1:3111/@dynamodb")
        );
        let store = registry.local.as_ref().expect("served locally");
        assert_eq!(store.table_names(), [table]);
    }

    #[tokio::test]
    async fn another_endpoint_is_passed_on_and_nothing_is_served() {
        let manifest = echo_manifest();
        let options = RegistryOptions {
            table: Some("my-table".into()),
            endpoint: Some("http://127.0.0.1:8000".into()),
        };
        let registry = Registry::start(&options, &manifest, "127.0.0.1:3111");
        assert!(registry.local.is_none());
        assert_eq!(
            json!(registry.environment()),
            json!([
                [env::REGISTRY_TABLE, "my-table"],
                [env::REGISTRY_ENDPOINT, "http://127.0.0.1:8000"]
            ])
        );
        let off = super::super::worker_environment(&manifest, "http://x", None, None);
        assert_eq!(variable(&off, env::REGISTRY_TABLE), None);
    }
}
