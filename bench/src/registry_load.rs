//! Join/leave throughput of the connection registry: many connections joining (or leaving) one
//! channel through `socket_client::Registry`, the calls a handler's `socket.join`/`leave` make,
//! against the DynamoDB endpoint `socket dev` serves at `/@dynamodb`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use socket_client::{Credentials, DynamoDb, Registry};

use crate::stats::Summary;

/// Which registry call is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Join,
    Leave,
}

/// How many calls succeeded, in what time, and how long each took.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ThroughputReport {
    pub calls: usize,
    pub failed: usize,
    pub first_error: Option<String>,
    pub seconds: f64,
    pub per_second: f64,
    pub call: Summary,
}

/// The registry of the table `table` at `endpoint` (a local endpoint does not check signatures;
/// the dummy credentials only let the client sign).
pub fn registry(endpoint: &str, table: &str) -> Result<Registry, String> {
    let credentials = Credentials::new("AKIDBENCHMARK", "benchmark-secret");
    let db = DynamoDb::new(endpoint, "us-east-1", Some(credentials))
        .map_err(|error| format!("registry endpoint {endpoint}: {error}"))?;
    Ok(Registry::new(db, table))
}

/// Every id in `ids` joins (or leaves) `channel`, `concurrency` calls in flight.
pub async fn change_all(
    registry: Arc<Registry>,
    ids: &[String],
    channel: &str,
    change: Change,
    concurrency: usize,
) -> ThroughputReport {
    let started = Instant::now();
    let outcomes: Vec<Result<Duration, String>> = stream::iter(ids.iter().cloned())
        .map(|id| {
            let registry = Arc::clone(&registry);
            let channel = channel.to_string();
            async move {
                let call = Instant::now();
                let result = match change {
                    Change::Join => registry.join(&id, &channel).await,
                    Change::Leave => registry.leave(&id, &channel).await,
                };
                result
                    .map(|()| call.elapsed())
                    .map_err(|error| error.to_string())
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let mut times = Vec::with_capacity(outcomes.len());
    let mut errors = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(took) => times.push(took),
            Err(error) => errors.push(error),
        }
    }
    ThroughputReport {
        calls: times.len(),
        failed: errors.len(),
        first_error: errors.into_iter().next(),
        seconds,
        per_second: times.len() as f64 / seconds.max(f64::EPSILON),
        call: Summary::of(&times),
    }
}
