//! Broadcast: one frame to every member of a channel (or every connection), page by page.
//!
//! Ids are read in `Query` pages of at most 1000 (never all at once, never a `Scan`), posted with
//! bounded concurrency over the pooled HTTP/1 connections, throttled posts retried with backoff,
//! and members that answer 410 Gone removed from the registry as `disconnect` would.

use std::sync::OnceLock;

use futures_util::stream::{self, StreamExt};

use crate::backoff;
use crate::credentials::non_empty_env;
use crate::management::{Deliver, Frame, SendError};
use crate::registry::{Audience, Registry};
use crate::registry_error::RegistryError;

/// Posts in flight at once when `SOCKET_BROADCAST_CONCURRENCY` is unset.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// What a broadcast did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BroadcastReport {
    /// How many connections got the frame.
    pub delivered: usize,
    /// Connections that had gone (410); they were removed from the registry.
    pub gone: Vec<String>,
    /// Connections the frame could not be delivered to, and why.
    pub failed: Vec<(String, String)>,
}

/// How a broadcast runs.
#[derive(Clone, Debug)]
pub struct BroadcastOptions {
    /// A connection not to send to (usually the sender).
    pub skip: Option<String>,
    /// Posts in flight at once.
    pub concurrency: usize,
}

impl Default for BroadcastOptions {
    /// No skip; `SOCKET_BROADCAST_CONCURRENCY` posts at once (default 32), read once per process.
    fn default() -> Self {
        static CONCURRENCY: OnceLock<usize> = OnceLock::new();
        let concurrency = *CONCURRENCY.get_or_init(|| {
            non_empty_env(socket_protocol::env::BROADCAST_CONCURRENCY)
                .and_then(|value| value.parse::<usize>().ok())
                .filter(|value| *value > 0)
                .unwrap_or(DEFAULT_CONCURRENCY)
        });
        Self {
            skip: None,
            concurrency,
        }
    }
}

impl BroadcastOptions {
    /// Skips `connection_id`.
    pub fn skipping(mut self, connection_id: impl Into<String>) -> Self {
        self.skip = Some(connection_id.into());
        self
    }
}

enum Outcome {
    Delivered,
    Gone(String),
    Failed(String, String),
}

/// Sends `frame` to every connection of `audience` through `deliver`.
///
/// A failing registry read stops the broadcast with the error (what was posted until then stays
/// posted); delivery failures do not, they are reported per connection.
pub async fn broadcast<D: Deliver>(
    registry: &Registry,
    deliver: &D,
    audience: &Audience,
    frame: &Frame,
    options: &BroadcastOptions,
) -> Result<BroadcastReport, RegistryError> {
    let mut report = BroadcastReport::default();
    let mut after = None;
    loop {
        let page = registry.page(audience, after.as_ref()).await?;
        let recipients = page
            .ids
            .into_iter()
            .filter(|id| options.skip.as_deref() != Some(id.as_str()));
        let mut outcomes = stream::iter(recipients)
            .map(|id| deliver_one(registry, deliver, id, frame))
            .buffer_unordered(options.concurrency.max(1));
        while let Some(outcome) = outcomes.next().await {
            match outcome {
                Outcome::Delivered => report.delivered += 1,
                Outcome::Gone(id) => report.gone.push(id),
                Outcome::Failed(id, reason) => report.failed.push((id, reason)),
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(report),
        }
    }
}

/// One post, retried while throttled; a gone connection is pruned.
async fn deliver_one<D: Deliver>(
    registry: &Registry,
    deliver: &D,
    connection_id: String,
    frame: &Frame,
) -> Outcome {
    let mut tries = 0;
    loop {
        tries += 1;
        match deliver.deliver(&connection_id, frame.clone()).await {
            Ok(()) => return Outcome::Delivered,
            Err(SendError::Gone { .. }) => {
                if let Err(error) = registry.unregister(&connection_id).await {
                    tracing::warn!(connection_id, %error, "could not remove a gone connection from the registry");
                }
                return Outcome::Gone(connection_id);
            }
            Err(error) if is_throttled(&error) && tries < backoff::MAX_TRIES => {
                backoff::wait(tries).await;
            }
            Err(error) => return Outcome::Failed(connection_id, error.to_string()),
        }
    }
}

/// 429, `LimitExceededException` or a 5xx: API Gateway asks to slow down or failed transiently.
fn is_throttled(error: &SendError) -> bool {
    match error {
        SendError::Api {
            status, message, ..
        } => *status == 429 || *status >= 500 || message.contains("LimitExceededException"),
        _ => false,
    }
}
