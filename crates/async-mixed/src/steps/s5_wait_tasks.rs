//! Step 5: waits alone, as tasks: `waits` tasks each awaiting a timer, all waiting at once,
//! gathered from a `JoinSet`: the tutorial's `asyncio.gather` of `asyncio.sleep`.
//!
//! Since step 1: the wait is a timer instead of a request, so nothing outside the process (file
//! descriptors, ports) caps how many there are, and what a wait costs is what a task costs:
//! its future, boxed on the heap, and a timer entry. Step 6 makes each wait a thread instead.

// ANCHOR: pattern
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Barrier;
use tokio::task::JoinSet;

use super::{StepError, panicked};

/// How many waits ran, and how many of them were waiting at the same moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waited {
    /// Waits started.
    pub started: u64,
    /// The most that were waiting at once: `started` when every wait overlapped every other.
    pub most_at_once: u64,
}

/// Counts the waits under way and the most there ever were at once.
///
/// A wait counts from the moment its task or thread reaches the start line to the end of its
/// sleep: all of that time it exists only to wait, and holds what a wait costs.
///
/// `Relaxed` is enough: every change is a read-modify-write of the one counter `now`, and those
/// always see the latest value in its modification order, so the maximum is exact. The result is
/// read after every waiter was joined, and joining orders their writes before the read.
#[derive(Debug, Default)]
pub struct Waiting {
    now: AtomicU64,
    most: AtomicU64,
}

impl Waiting {
    /// A waiter has started waiting.
    pub fn enter(&self) {
        let now = self.now.fetch_add(1, Ordering::Relaxed) + 1;
        self.most.fetch_max(now, Ordering::Relaxed);
    }

    /// A waiter woke up.
    pub fn leave(&self) {
        self.now.fetch_sub(1, Ordering::Relaxed);
    }

    /// The waiters under way now (a count only: it orders no other memory).
    pub fn now(&self) -> u64 {
        self.now.load(Ordering::Relaxed)
    }

    /// The most waiters under way at once so far.
    pub fn most(&self) -> u64 {
        self.most.load(Ordering::Relaxed)
    }
}

/// Starts `waits` tasks that each sleep for `delay`, all from the same moment, and waits for
/// them all.
///
/// Why a start line (the `Barrier`): on a multi-threaded runtime a spawned task starts at once,
/// so without one the first timers could fire before the last task was spawned, and the waits
/// would not all be at once. `asyncio` needs none: `gather` creates every task before the event
/// loop runs any. The barrier counts this task too, so it opens when this task has spawned all.
pub async fn run(waits: usize, delay: Duration) -> Result<Waited, StepError> {
    let waiting = Arc::new(Waiting::default());
    let start_line = Arc::new(Barrier::new(waits + 1));
    let mut set = JoinSet::new();
    for _ in 0..waits {
        let (waiting, start_line) = (Arc::clone(&waiting), Arc::clone(&start_line));
        set.spawn(async move {
            waiting.enter();
            start_line.wait().await;
            // A timer, not `std::thread::sleep`: the task gives its worker back while it waits,
            // so a few workers serve every wait.
            tokio::time::sleep(delay).await;
            waiting.leave();
        });
    }
    start_line.wait().await;
    while let Some(joined) = set.join_next().await {
        joined.map_err(|err| panicked("wait-tasks", err))?;
    }
    Ok(Waited {
        started: waits as u64,
        most_at_once: waiting.most(),
    })
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_is_waiting_at_once() {
        let runtime = super::super::runtime(2).unwrap();
        let waited = runtime
            .block_on(run(500, Duration::from_millis(20)))
            .unwrap();
        assert_eq!(
            waited,
            Waited {
                started: 500,
                most_at_once: 500
            }
        );
    }

    #[test]
    fn the_count_is_of_waits_under_way_together() {
        let waiting = Waiting::default();
        waiting.enter();
        waiting.enter();
        waiting.leave();
        waiting.enter();
        waiting.leave();
        waiting.leave();
        assert_eq!(waiting.most(), 2);
    }
}
