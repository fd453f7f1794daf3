//! Talking to connections: the API Gateway management API (`POST/GET/DELETE @connections/{id}`).

use std::future::Future;
use std::sync::Arc;

pub use socket_client::{ConnectionIdentity, ConnectionInfo, Frame, SendError};
use socket_client::{Deliver, ManagementApi};

use crate::testing::Recorder;

// The environment variable overriding the management API endpoint (the local emulator and custom
// domains set it), e.g. `http://127.0.0.1:3111/dev`.
use socket_protocol::env::MANAGEMENT_ENDPOINT as MANAGEMENT_ENDPOINT_ENV;

/// Where management calls go: the real HTTP API in production, an in-memory recorder in `testing`.
#[derive(Clone)]
pub(crate) enum Transport {
    Http,
    Recorder(Arc<Recorder>),
}

/// The management API for one event: over HTTP, or recorded by a test.
#[derive(Clone)]
pub(crate) struct Management {
    api: ManagementApi,
    recorder: Option<Arc<Recorder>>,
}

impl Management {
    pub(crate) fn new(endpoint: String, transport: Transport) -> Self {
        let recorder = match transport {
            Transport::Http => None,
            Transport::Recorder(recorder) => Some(recorder),
        };
        Self {
            api: ManagementApi::new(endpoint),
            recorder,
        }
    }

    pub(crate) fn endpoint(&self) -> &str {
        self.api.endpoint()
    }

    pub(crate) async fn post(&self, connection_id: &str, frame: Frame) -> Result<(), SendError> {
        match &self.recorder {
            None => self.api.post(connection_id, frame).await,
            Some(recorder) => recorder.post(connection_id, frame),
        }
    }

    pub(crate) async fn delete(&self, connection_id: &str) -> Result<(), SendError> {
        match &self.recorder {
            None => self.api.delete(connection_id).await,
            Some(recorder) => recorder.delete(connection_id),
        }
    }

    pub(crate) async fn get(&self, connection_id: &str) -> Result<ConnectionInfo, SendError> {
        match &self.recorder {
            None => self.api.get(connection_id).await,
            Some(recorder) => recorder.get(connection_id),
        }
    }
}

/// Broadcasts from a handler go where its sends go.
impl Deliver for Management {
    fn deliver(
        &self,
        connection_id: &str,
        frame: Frame,
    ) -> impl Future<Output = Result<(), SendError>> + Send {
        self.post(connection_id, frame)
    }
}

/// The management endpoint for an event: the override if set, else `https://{domain_name}/{stage}`.
pub(crate) fn endpoint_for(
    override_endpoint: Option<&str>,
    domain_name: &str,
    stage: &str,
) -> String {
    let from_env = std::env::var(MANAGEMENT_ENDPOINT_ENV)
        .ok()
        .filter(|value| !value.trim().is_empty());
    let configured = override_endpoint
        .filter(|value| !value.trim().is_empty())
        .map(str::to_string);
    match configured.or(from_env) {
        Some(endpoint) => endpoint.trim().trim_end_matches('/').to_string(),
        None => format!("https://{domain_name}/{stage}"),
    }
}
