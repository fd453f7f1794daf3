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
