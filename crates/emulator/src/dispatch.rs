//! Matching invocations with idle workers, without a task in between.
//!
//! Whoever arrives second does the hand-off on the spot: a submitted invocation goes straight to
//! a worker already waiting in `/next`, and a worker asking for work takes the oldest queued
//! invocation. Handing off inline (rather than through a dispatcher task) saves a scheduling hop
//! on every message, which is most of what a local round trip costs.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::invocation::Invocation;
use super::runtime_api::IdleWorker;

/// The pool is shutting down: it takes no invocation and no worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

#[derive(Default)]
pub struct Dispatch {
    state: Mutex<State>,
}

/// At any time at most one of the two lists is non-empty.
#[derive(Default)]
struct State {
    /// In arrival order: invocations start in the order they were submitted.
    queued: VecDeque<Invocation>,
    /// The most recently idle worker last: it goes first, its process still warm in the CPU
    /// caches, so a steady trickle of messages keeps being served by the same one or two.
    idle: Vec<IdleWorker>,
    closed: bool,
}

impl Dispatch {
    /// Starts `invocation` on an idle worker now, or queues it for the next one to ask; how many
    /// invocations wait for a worker afterwards (0: it started).
    pub fn submit(&self, mut invocation: Invocation) -> Result<usize, Closed> {
        let mut state = self.lock();
        if state.closed {
            return Err(Closed);
        }
        while let Some(worker) = state.idle.pop() {
            // A worker that went away since it asked gives the invocation back.
            match worker.send(invocation) {
                Ok(()) => return Ok(0),
                Err(returned) => invocation = returned,
            }
        }
        state.queued.push_back(invocation);
        Ok(state.queued.len())
    }

    /// A worker waiting in `/next`: it gets the oldest queued invocation, or waits for one.
    pub fn worker_idle(&self, worker: IdleWorker) -> Result<(), Closed> {
        let mut state = self.lock();
        if state.closed {
            return Err(Closed);
        }
        match state.queued.pop_front() {
            Some(invocation) => {
                if let Err(returned) = worker.send(invocation) {
                    state.queued.push_front(returned);
                }
            }
            None => state.idle.push(worker),
        }
        Ok(())
    }

    /// Refuses everything from now on; queued invocations fail as unavailable.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.queued.clear();
        state.idle.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;
    use tokio::sync::oneshot;

    use super::*;
    use crate::invocation::Invoked;

    fn invocation(event: &'static str) -> (Invocation, oneshot::Receiver<Invoked>) {
        let (reply, outcome) = oneshot::channel();
        let invocation = Invocation {
            event: Bytes::from_static(event.as_bytes()),
            route: "$default".into(),
            connection_id: "c".into(),
            reply,
        };
        (invocation, outcome)
    }

    #[test]
    fn the_most_recently_idle_worker_goes_first_and_gone_workers_are_skipped() {
        let dispatch = Dispatch::default();
        let (first, mut first_rx) = oneshot::channel();
        let (second, mut second_rx) = oneshot::channel();
        let (gone, gone_rx) = oneshot::channel();
        drop(gone_rx);
        for worker in [first, second, gone] {
            dispatch.worker_idle(worker).unwrap();
        }

        dispatch.submit(invocation("one").0).unwrap();
        assert_eq!(second_rx.try_recv().unwrap().event, "one");
        assert!(first_rx.try_recv().is_err(), "the older idle worker waits");
        dispatch.submit(invocation("two").0).unwrap();
        assert_eq!(first_rx.try_recv().unwrap().event, "two");
    }

    #[test]
    fn invocations_wait_in_order_for_workers() {
        let dispatch = Dispatch::default();
        assert_eq!(dispatch.submit(invocation("one").0), Ok(1));
        assert_eq!(dispatch.submit(invocation("two").0), Ok(2));
        for expected in ["one", "two"] {
            let (worker, mut assigned) = oneshot::channel();
            dispatch.worker_idle(worker).unwrap();
            assert_eq!(assigned.try_recv().unwrap().event, expected);
        }
    }

    #[tokio::test]
    async fn closing_fails_what_is_queued_and_refuses_the_rest() {
        let dispatch = Dispatch::default();
        let (queued, outcome) = invocation("one");
        dispatch.submit(queued).unwrap();
        dispatch.close();
        let dropped = tokio::time::timeout(Duration::from_secs(5), outcome).await;
        assert!(
            dropped.unwrap().is_err(),
            "the queued invocation's reply is dropped"
        );
        assert_eq!(dispatch.submit(invocation("two").0), Err(Closed));
        assert_eq!(dispatch.worker_idle(oneshot::channel().0), Err(Closed));
    }
}
