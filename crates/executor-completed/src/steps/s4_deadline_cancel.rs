//! Step 4: a deadline, and cancelling: stop waiting for what has not finished, and drop what
//! has not started.
//!
//! Since step 3: `as_completed_until` stops waiting at a deadline and hands back the handles of
//! the tasks still out (Python: `as_completed(fs, timeout=...)` raises `TimeoutError`);
//! `cancel_pending` empties the waiting line, and every task in it arrives as
//! [`TaskError::Cancelled`] (Python: `executor.shutdown(cancel_futures=True)`). Neither touches
//! a running task: a thread cannot be stopped safely from outside, so a deadline stops the
//! *waiting*, not the work, and a late result is kept for whoever asks for it later.

// ANCHOR: pattern
use std::time::Instant;

use super::s2_submit::Executor;
use super::s3_as_completed::AsCompleted;
use crate::task::{Completion, Handle, TaskError, TaskId};

impl Executor {
    /// Like [`as_completed`](Executor::as_completed), but stops waiting at `deadline`; then
    /// [`AsCompleted::not_finished`] hands back the handles still out.
    pub fn as_completed_until(
        &mut self,
        handles: Vec<Handle>,
        deadline: Instant,
    ) -> AsCompleted<'_> {
        self.completions.as_completed(handles, Some(deadline))
    }

    /// Cancels every task that has not started, and returns how many. Each arrives through
    /// `as_completed` as [`TaskError::Cancelled`]: Python's `as_completed` never yields a future
    /// that `shutdown` cancelled and waits for it forever (python/cpython#87893, still open).
    pub fn cancel_pending(&mut self) -> usize {
        let cancelled = self.line.take_all();
        for queued in &cancelled {
            let done = Completion {
                id: queued.id,
                start_rank: None,
                outcome: Err(TaskError::Cancelled),
            };
            // We hold the receiver, so this send cannot fail.
            let _ = self.done_tx.send(done);
        }
        cancelled.len()
    }
}

impl AsCompleted<'_> {
    /// The tasks that had not finished when the deadline passed, by id (empty once a call
    /// without a deadline is exhausted). Their results, when they come, are kept for a later
    /// call that asks for them.
    pub fn not_finished(self) -> Vec<Handle> {
        let mut ids: Vec<TaskId> = self.pending.into_iter().collect();
        ids.sort_unstable();
        ids.into_iter().map(Handle::new).collect()
    }
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_deadline_hands_back_what_is_still_out_and_its_result_comes_later() {
        let mut ex = Executor::new(2).unwrap();
        let (gate_tx, gate_rx) = crossbeam_channel::bounded::<()>(0);
        let quick = ex.submit(|| Ok(1));
        let stuck = ex.submit(move || Ok(u64::from(gate_rx.recv().is_err())));
        assert_eq!(ex.as_completed(vec![quick]).count(), 1);
        let deadline = Instant::now() + Duration::from_millis(20);
        let mut done = ex.as_completed_until(vec![stuck], deadline);
        assert_eq!(done.next(), None);
        let out = done.not_finished();
        assert_eq!(out.iter().map(Handle::id).collect::<Vec<_>>(), vec![1]);
        drop(gate_tx);
        assert_eq!(
            ex.as_completed(out).map(|c| c.outcome).collect::<Vec<_>>(),
            vec![Ok(1)]
        );
    }

    #[test]
    fn cancelling_reports_every_queued_task_once() {
        let mut ex = Executor::new(1).unwrap();
        let (gate_tx, gate_rx) = crossbeam_channel::bounded::<()>(0);
        let (started_tx, started_rx) = crossbeam_channel::bounded(1);
        let running = ex.submit(move || {
            let _ = started_tx.send(());
            Ok(u64::from(gate_rx.recv().is_err()))
        });
        started_rx.recv().unwrap();
        let queued: Vec<Handle> = (0..5).map(|_| ex.submit(|| Ok(0))).collect();
        assert_eq!(ex.cancel_pending(), 5);
        drop(gate_tx);
        let mut all = queued;
        all.push(running);
        let cancelled = ex
            .as_completed(all)
            .filter(|c| c.outcome == Err(TaskError::Cancelled));
        assert_eq!(cancelled.count(), 5);
    }
}
