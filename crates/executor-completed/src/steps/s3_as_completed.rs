//! Step 3: `as_completed`: results in the order tasks finish, whatever order they were
//! submitted in.
//!
//! Since step 2: the receiving end of the workers' channel ([`Completions`]), read. Every worker
//! sends its completion the moment a task ends, so "as completed" is "as received": no polling
//! of futures. It only reports; it has no say in what starts first (the tutorial's claim that
//! it gives "control over task priority" is wrong: step 5 shows where priority lives).

// ANCHOR: pattern
use std::collections::{HashSet, VecDeque};
use std::time::Instant;

use crossbeam_channel::RecvTimeoutError;

use super::s2_submit::{Completions, Executor};
use crate::task::{Completion, Handle, TaskId};

impl Completions {
    /// The completions of `handles` as they arrive, waiting until `deadline` if there is one.
    pub fn as_completed(
        &mut self,
        handles: Vec<Handle>,
        deadline: Option<Instant>,
    ) -> AsCompleted<'_> {
        let mut pending: HashSet<TaskId> = handles.iter().map(Handle::id).collect();
        // Completions that arrived before this call are ready at once, like Python's futures
        // that are already done when `as_completed` starts.
        let mut ready = VecDeque::new();
        pending.retain(|id| match self.early.remove(id) {
            Some(done) => {
                ready.push_back(done);
                false
            }
            None => true,
        });
        AsCompleted {
            completions: self,
            pending,
            ready,
            deadline,
        }
    }
}

impl Executor {
    /// Yields `handles`' completions in the order their tasks finish.
    pub fn as_completed(&mut self, handles: Vec<Handle>) -> AsCompleted<'_> {
        self.completions.as_completed(handles, None)
    }
}

/// The iterator `as_completed` returns: completions of the asked-for tasks, in finishing order.
#[derive(Debug)]
pub struct AsCompleted<'a> {
    completions: &'a mut Completions,
    /// Tasks asked about and not yet yielded.
    pub(crate) pending: HashSet<TaskId>,
    /// Asked-for completions that had arrived before the call.
    ready: VecDeque<Completion>,
    /// When to stop waiting, if ever (step 4).
    deadline: Option<Instant>,
}

impl Iterator for AsCompleted<'_> {
    type Item = Completion;

    fn next(&mut self) -> Option<Completion> {
        if let Some(done) = self.ready.pop_front() {
            return Some(done);
        }
        while !self.pending.is_empty() {
            let rx = &self.completions.rx;
            let received = match self.deadline {
                Some(deadline) => rx.recv_deadline(deadline),
                // Every executor keeps a sender alive while it lives, so without a deadline this
                // only fails if the executor is gone, and then nothing more can arrive.
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            let done = received.ok()?;
            if self.pending.remove(&done.id) {
                return Some(done);
            }
            // Someone else's task: keep it for the call that asks about it.
            self.completions.early.insert(done.id, done);
        }
        None
    }
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    fn done(id: TaskId) -> Completion {
        Completion {
            id,
            start_rank: Some(id),
            outcome: Ok(id * id),
        }
    }

    #[test]
    fn yields_in_arrival_order_and_keeps_others_for_later() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut completions = Completions::new(rx);
        for id in [2, 9, 0, 1] {
            tx.send(done(id)).unwrap();
        }
        let asked = vec![Handle::new(0), Handle::new(1), Handle::new(2)];
        let order: Vec<TaskId> = completions
            .as_completed(asked, None)
            .map(|c| c.id)
            .collect();
        assert_eq!(order, vec![2, 0, 1]);
        // Task 9 arrived while we waited for others; a later call gets it at once.
        let later = completions.as_completed(vec![Handle::new(9)], None);
        assert_eq!(later.map(|c| c.id).collect::<Vec<_>>(), vec![9]);
    }

    #[test]
    fn a_long_task_submitted_first_finishes_last() {
        let mut ex = Executor::new(2).unwrap();
        let (gate_tx, gate_rx) = crossbeam_channel::bounded::<()>(0);
        // Task 0 waits until the test has seen task 1 finish: no scheduler can reorder that.
        let first = ex.submit(move || Ok(u64::from(gate_rx.recv().is_err())));
        let second = ex.submit(|| Ok(2));
        let mut done = ex.as_completed(vec![first, second]);
        assert_eq!(done.next().map(|c| c.id), Some(1));
        drop(gate_tx);
        assert_eq!(done.next().map(|c| c.id), Some(0));
        assert_eq!(done.next(), None);
    }
}
