//! Talking to connections: the API Gateway management API (`POST/GET/DELETE @connections/{id}`).

use std::future::Future;
use std::sync::Arc;

pub use socket_client::{ConnectionIdentity, ConnectionInfo, Frame, SendError};
use socket_client::{Deliver, ManagementApi};

use crate::config::Config;
use crate::testing::Recorder;

/// Where management calls go: the real HTTP API in production, an in-memory recorder in `testing`.
#[derive(Clone)]
pub(crate) enum Transport {
    Http,
    Recorder(Arc<Recorder>),
}

/// The management API for one event: its endpoint and the configuration's signing over HTTP, or
/// recorded by a test.
#[derive(Clone)]
pub(crate) struct Management {
    api: ManagementApi,
    recorder: Option<Arc<Recorder>>,
}

impl Management {
    /// The management API for an event of `stage` on `domain_name`: the configured endpoint
    /// (shared, not copied per event), else `https://{domain_name}/{stage}`.
    pub(crate) fn new(
        config: &Config,
        domain_name: &str,
        stage: &str,
        transport: Transport,
    ) -> Self {
        let endpoint: Arc<str> = match config.shared_management_endpoint() {
            Some(endpoint) => Arc::clone(endpoint),
            None => format!("https://{domain_name}/{stage}").into(),
        };
        let recorder = match transport {
            Transport::Http => None,
            Transport::Recorder(recorder) => Some(recorder),
        };
        Self {
            api: ManagementApi::signed(endpoint, config.signing().clone()),
            recorder,
        }
    }

    /// The endpoint calls go to, without a trailing `/`.
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
