//! Polling instead of sleeping while messages flow.
//!
//! One message crosses the emulator's thread several times: the client's frame, the worker's
//! `/next`, its management POST, its `/response`. Between those steps the thread would sleep in
//! epoll and be woken by the next one. Where a wake-up is dear — a virtual machine has to deliver
//! an interrupt to a halted vCPU, tens of microseconds each — those wake-ups are most of a local
//! round trip. So while invocations are flowing, one task keeps the runtime polling its sockets
//! with a zero timeout instead of parking, and offers the CPU to any other runnable process (a
//! worker) on every turn. After `quiet` without activity it parks, and an idle emulator uses no
//! CPU at all. BENCHMARKS.md has the figures.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How long the emulator keeps polling after the last activity: longer than the gaps inside one
/// echo and between a client's echo and its next message on loopback, short enough that a
/// message now and then costs no noticeable CPU.
pub const QUIET: Duration = Duration::from_millis(1);

pub struct BusyPoll {
    /// Bumped on every activity; the poller compares it between turns.
    activity: AtomicU64,
    polling: AtomicBool,
    wake: Notify,
}

impl BusyPoll {
    /// Spawns the poller on the current runtime; it starts parked.
    pub fn start(quiet: Duration) -> Arc<Self> {
        let busy = Arc::new(Self {
            activity: AtomicU64::new(0),
            polling: AtomicBool::new(false),
            wake: Notify::new(),
        });
        tokio::spawn(poll_while_active(Arc::clone(&busy), quiet));
        busy
    }

    /// Something happened (an invocation submitted, a worker request): poll for a while.
    pub fn touch(&self) {
        self.activity.fetch_add(1, Ordering::Relaxed);
        if !self.polling.load(Ordering::Relaxed) {
            self.wake.notify_one();
        }
    }

    /// Whether the poller is running now rather than parked.
    #[cfg(test)]
    pub fn is_polling(&self) -> bool {
        self.polling.load(Ordering::Relaxed)
    }
}

async fn poll_while_active(busy: Arc<BusyPoll>, quiet: Duration) {
    loop {
        busy.wake.notified().await;
        busy.polling.store(true, Ordering::Relaxed);
        let mut seen = busy.activity.load(Ordering::Relaxed);
        let mut last_activity = Instant::now();
        loop {
            // Tokio runs a yielded task again only after polling the sockets (timeout zero), so
            // this loop is the busy poll; the thread yield lets a worker on this CPU go first.
            tokio::task::yield_now().await;
            std::thread::yield_now();
            let now = busy.activity.load(Ordering::Relaxed);
            if now != seen {
                seen = now;
                last_activity = Instant::now();
            } else if last_activity.elapsed() >= quiet {
                break;
            }
        }
        busy.polling.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn wait(millis: u64) {
        tokio::time::sleep(Duration::from_millis(millis)).await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn parked_until_touched_and_parks_again_when_quiet() {
        let busy = BusyPoll::start(Duration::from_millis(5));
        wait(100).await;
        assert!(
            !busy.is_polling(),
            "an emulator nobody talks to must not poll"
        );

        busy.touch();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(busy.is_polling(), "activity starts the poll");

        wait(200).await;
        assert!(!busy.is_polling(), "the poll stops after the quiet period");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn keeps_polling_while_activity_goes_on() {
        let busy = BusyPoll::start(Duration::from_millis(400));
        for _ in 0..25 {
            busy.touch();
            wait(2).await;
        }
        assert!(busy.is_polling(), "stopped polling while activity went on");
        wait(1200).await;
        assert!(!busy.is_polling());
    }
}
