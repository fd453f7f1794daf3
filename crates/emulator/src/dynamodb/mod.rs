//! A local DynamoDB endpoint for the connection registry: the subset of DynamoDB's JSON 1.0 API
//! the registry uses (PutItem, GetItem, DeleteItem, Query, BatchWriteItem, and CreateTable,
//! DescribeTable, DeleteTable, ListTables for tools), in memory, answering as DynamoDB answers.
//!
//! `socket dev` serves it at `POST /@dynamodb` on its own port, so the runtime's registry code
//! talks to it exactly as to DynamoDB; [`LocalEndpoint`] serves it on a port of its own for tests.
//! Anything outside the subset is refused with a ValidationException that says so, never
//! silently ignored.

mod errors;
mod expressions;
mod http;
mod keys;
mod operations;
mod params;
mod query;
mod store;
mod tables;
mod values;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::task::JoinHandle;

pub use errors::DynamoError;
pub use http::{handle, serves, PATH};
pub use keys::KeySchema;
pub use store::{Store, TTL_ATTRIBUTE};

/// How often expired items are dropped from memory (reads never see them either way).
const SWEEP_INTERVAL: Duration = Duration::from_secs(30);

/// A store holding the registry's table `table` (`pk`/`sk`, TTL on `ttl`).
pub fn registry_store(region: &str, table: &str) -> Arc<Store> {
    let store = Store::new(region);
    store
        .create_table(table, KeySchema::registry(), |_| ())
        .expect("a new store has no tables");
    Arc::new(store)
}

/// Drops expired items from `store` every 30 seconds until the task is aborted.
pub fn sweep_periodically(store: Arc<Store>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(SWEEP_INTERVAL);
        loop {
            ticks.tick().await;
            store.sweep(store::now_seconds());
        }
    })
}

/// The endpoint on a loopback port of its own, until dropped.
pub struct LocalEndpoint {
    url: String,
    store: Arc<Store>,
    tasks: [JoinHandle<()>; 2],
}

impl LocalEndpoint {
    /// Serves the endpoint on `127.0.0.1` (a free port) with the registry's table `table`
    /// created. Call it inside a Tokio runtime; the endpoint is at [`LocalEndpoint::url`].
    pub async fn start(table: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let url = format!("http://{}{PATH}", listener.local_addr()?);
        let store = registry_store("us-east-1", table);
        let served = Arc::clone(&store);
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = Arc::clone(&served);
                tokio::spawn(async move {
                    let service = service_fn(move |request: ::http::Request<_>| {
                        let store = Arc::clone(&store);
                        async move {
                            if serves(request.uri().path()) {
                                Ok::<_, Infallible>(handle(&store, request).await)
                            } else {
                                Ok(not_found())
                            }
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        let sweeper = sweep_periodically(Arc::clone(&store));
        Ok(Self {
            url,
            store,
            tasks: [server, sweeper],
        })
    }

    /// `http://127.0.0.1:<port>/@dynamodb`: the value for `SOCKET_REGISTRY_ENDPOINT`, or an
    /// SDK's endpoint URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The tables, for tests that look inside.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
}

impl Drop for LocalEndpoint {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn not_found() -> ::http::Response<http_body_util::Full<bytes::Bytes>> {
    let mut response = ::http::Response::new(http_body_util::Full::new(bytes::Bytes::from(
        format!("Not found: the DynamoDB endpoint is POST {PATH}\n"),
    )));
    *response.status_mut() = ::http::StatusCode::NOT_FOUND;
    response
}
