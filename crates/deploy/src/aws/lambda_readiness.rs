//! Whether a Lambda function takes an update now: Lambda applies a create or an update in the
//! background (State `Pending`, LastUpdateStatus `InProgress`) and answers
//! ResourceConflictException to another update meanwhile; an interrupted deploy or an edit in
//! the console can leave one in progress when a deploy starts.

use std::time::Duration;

use super::{AwsError, Clients, SdkResultExt};

/// How often and how long to poll a function until it takes an update (seconds usually;
/// minutes for a function in a VPC).
pub const READY_WAIT: WaitPolicy = WaitPolicy {
    interval: Duration::from_secs(2),
    max_polls: 150,
};

/// When a function is waited for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    /// Before this run's first update: a failed earlier update does not block a new one.
    BeforeUpdate,
    /// After this run created or updated it: a failure is this run's to report.
    AfterChange,
}

/// Whether a function takes an update now, from GetFunctionConfiguration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Why not yet ("an update is in progress").
    Waiting(String),
    /// Lambda's reason.
    Failed(String),
}

/// A function's `State` and `LastUpdateStatus` (with their reasons), as Lambda reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FunctionStatus {
    pub state: Option<String>,
    pub state_reason: Option<String>,
    pub last_update: Option<String>,
    pub last_update_reason: Option<String>,
}

impl FunctionStatus {
    pub fn readiness(&self, moment: Moment) -> Readiness {
        let reason = |r: &Option<String>, fallback: &str| {
            r.clone()
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| fallback.to_owned())
        };
        match (self.state.as_deref(), self.last_update.as_deref()) {
            (Some("Pending"), _) => Readiness::Waiting("the function is being created".into()),
            (_, Some("InProgress")) => Readiness::Waiting("an update is in progress".into()),
            (Some("Failed"), _) if moment == Moment::AfterChange => {
                Readiness::Failed(reason(&self.state_reason, "the function failed to start"))
            }
            (_, Some("Failed")) if moment == Moment::AfterChange => {
                Readiness::Failed(reason(&self.last_update_reason, "the update failed"))
            }
            _ => Readiness::Ready,
        }
    }
}

/// How often and how many times to poll.
#[derive(Clone, Copy, Debug)]
pub struct WaitPolicy {
    pub interval: Duration,
    pub max_polls: u32,
}

/// Polls until the function takes an update: `poll` reads its status, `on_wait` hears why it
/// is not ready yet and how many polls that took. Bounded by `policy`.
pub async fn wait_until_ready<Poll, Fut>(
    name: &str,
    moment: Moment,
    policy: WaitPolicy,
    mut poll: Poll,
    mut on_wait: impl FnMut(&str, u32),
) -> Result<(), AwsError>
where
    Poll: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<FunctionStatus, AwsError>>,
{
    for attempt in 1..=policy.max_polls {
        match poll().await?.readiness(moment) {
            Readiness::Ready => return Ok(()),
            Readiness::Failed(reason) => {
                return Err(AwsError::FunctionFailed {
                    name: name.to_owned(),
                    reason,
                })
            }
            Readiness::Waiting(why) => {
                on_wait(&why, attempt);
                tokio::time::sleep(policy.interval).await;
            }
        }
    }
    Err(AwsError::NotReady {
        what: format!("Lambda function {name}"),
    })
}

pub async fn status(clients: &Clients, name: &str) -> Result<FunctionStatus, AwsError> {
    let out = clients
        .lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
        .aws("lambda:GetFunctionConfiguration", clients)?;
    Ok(FunctionStatus {
        state: out.state().map(|s| s.as_str().to_owned()),
        state_reason: out.state_reason().map(str::to_owned),
        last_update: out.last_update_status().map(|s| s.as_str().to_owned()),
        last_update_reason: out.last_update_status_reason().map(str::to_owned),
    })
}

/// Waits until the function takes an update (see [`wait_until_ready`]).
pub async fn wait_ready(
    clients: &Clients,
    name: &str,
    moment: Moment,
    on_wait: impl FnMut(&str, u32),
) -> Result<(), AwsError> {
    wait_until_ready(name, moment, READY_WAIT, || status(clients, name), on_wait).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: &str, last_update: &str, reason: &str) -> FunctionStatus {
        FunctionStatus {
            state: Some(state.to_owned()),
            state_reason: None,
            last_update: Some(last_update.to_owned()),
            last_update_reason: Some(reason.to_owned()).filter(|r| !r.is_empty()),
        }
    }

    /// Runs the wait over `seen` (one status per poll); returns the result and the waits heard.
    fn wait(
        moment: Moment,
        seen: Vec<FunctionStatus>,
        max_polls: u32,
    ) -> (Result<(), AwsError>, Vec<(String, u32)>, usize) {
        let policy = WaitPolicy {
            interval: Duration::ZERO,
            max_polls,
        };
        let mut polls = 0;
        let mut heard = Vec::new();
        let result = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(wait_until_ready(
                "echo-dev",
                moment,
                policy,
                || {
                    let next = seen
                        .get(polls)
                        .cloned()
                        .expect("no poll past the last status");
                    polls += 1;
                    async move { Ok(next) }
                },
                |why, attempt| heard.push((why.to_owned(), attempt)),
            ));
        (result, heard, polls)
    }

    #[test]
    fn an_update_in_progress_is_waited_out_before_the_first_update() {
        let (result, heard, polls) = wait(
            Moment::BeforeUpdate,
            vec![
                status("Active", "InProgress", ""),
                status("Active", "InProgress", ""),
                status("Active", "Successful", ""),
            ],
            10,
        );
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(polls, 3);
        assert_eq!(
            heard,
            vec![
                ("an update is in progress".to_owned(), 1),
                ("an update is in progress".to_owned(), 2)
            ]
        );
    }

    #[test]
    fn a_new_function_is_waited_for_until_active() {
        let (result, heard, _) = wait(
            Moment::AfterChange,
            vec![
                status("Pending", "InProgress", ""),
                status("Active", "Successful", ""),
            ],
            10,
        );
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(heard[0].0, "the function is being created");
    }

    #[test]
    fn a_failed_update_is_reported_with_lambdas_reason_after_a_change_only() {
        let failed = status("Active", "Failed", "The role cannot be assumed by Lambda.");
        let (result, _, _) = wait(
            Moment::AfterChange,
            vec![status("Active", "InProgress", ""), failed.clone()],
            10,
        );
        match result {
            Err(AwsError::FunctionFailed { name, reason }) => {
                assert_eq!(name, "echo-dev");
                assert_eq!(reason, "The role cannot be assumed by Lambda.");
            }
            other => panic!("{other:?}"),
        }
        // An earlier failed update does not stop this run from updating again.
        let (result, heard, _) = wait(Moment::BeforeUpdate, vec![failed], 10);
        assert!(result.is_ok() && heard.is_empty(), "{result:?}");
    }

    #[test]
    fn the_wait_is_bounded() {
        let stuck = vec![status("Active", "InProgress", ""); 3];
        let (result, heard, polls) = wait(Moment::BeforeUpdate, stuck, 3);
        assert!(
            matches!(result, Err(AwsError::NotReady { .. })),
            "{result:?}"
        );
        assert_eq!((polls, heard.len()), (3, 3));
    }

    #[test]
    fn a_settled_function_needs_one_read() {
        let (result, heard, polls) = wait(
            Moment::BeforeUpdate,
            vec![status("Active", "Successful", "")],
            3,
        );
        assert!(result.is_ok());
        assert_eq!((polls, heard.len()), (1, 0));
    }
}
