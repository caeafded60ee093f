//! Handles, completions and `as_completed`: the half of an executor that both the thread and the
//! process executor share, because it only deals with results arriving on one channel.
//!
//! Every worker, thread or process, sends a [`Completion`] into one shared channel the moment a
//! task ends. `as_completed` is then nothing more than "receive from that channel, keep the ones
//! this caller asked about": results come out in the order they finished, whatever the order they
//! were submitted in. It reports completions; it does not choose what runs first (the tutorial's
//! claim that it gives "control over task priority" is wrong: see the `priority` variant).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError};

/// A task's number, given by the executor in submission order (0, 1, 2, ...).
pub type TaskId = u64;

/// The claim ticket for one submitted task.
///
/// Not `Clone` and not `Copy` on purpose: `as_completed` takes handles by value, so a task's
/// result can be claimed once, and the compiler helps account for every task exactly once
/// (Python's futures can be waited on twice and counted twice).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Handle {
    id: TaskId,
}

impl Handle {
    /// A handle for task `id` (only executors make these).
    pub(crate) fn new(id: TaskId) -> Self {
        Self { id }
    }

    /// The task's number.
    pub fn id(&self) -> TaskId {
        self.id
    }
}

/// Why a task has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskError {
    /// The task returned `Err` with this message.
    Failed(String),
    /// The task panicked; the worker caught it and carries on.
    Panicked(String),
    /// The task never started: pending work was cancelled.
    Cancelled,
    /// The worker process running the task died (killed, crashed); the message says how.
    WorkerLost(String),
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Failed(msg) => write!(f, "failed: {msg}"),
            Self::Panicked(msg) => write!(f, "panicked: {msg}"),
            Self::Cancelled => f.write_str("cancelled before it started"),
            Self::WorkerLost(msg) => write!(f, "worker lost: {msg}"),
        }
    }
}

impl std::error::Error for TaskError {}

/// One task's end, as a worker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// Which task.
    pub id: TaskId,
    /// In which order workers took tasks off the queue (0 = first), or `None` if it never started.
    pub start_rank: Option<u64>,
    /// The task's value, or why there is none.
    pub outcome: Result<u64, TaskError>,
}

/// The receiving end of an executor's completion channel, plus the completions that arrived
/// while the caller was waiting for other tasks (kept until someone asks for them).
#[derive(Debug)]
pub struct Completions {
    /// Every worker holds a `Sender` clone of this channel. Unbounded: a worker must never block
    /// on reporting, or a slow reader would stall the pool (a bounded channel would be a second,
    /// hidden limit on parallelism).
    rx: Receiver<Completion>,
    /// Completions received for tasks the current `as_completed` was not asked about.
    early: HashMap<TaskId, Completion>,
}

impl Completions {
    /// Wraps the receiving end of a completion channel.
    pub fn new(rx: Receiver<Completion>) -> Self {
        Self {
            rx,
            early: HashMap::new(),
        }
    }

    /// Yields the tasks of `handles` as they finish, whatever order they were submitted in.
    pub fn as_completed(&mut self, handles: Vec<Handle>) -> AsCompleted<'_> {
        self.as_completed_until(handles, None)
    }

    /// Like [`as_completed`](Self::as_completed), but stops waiting at `deadline`; then
    /// [`AsCompleted::not_finished`] hands back the handles of the tasks still out.
    pub fn as_completed_until(
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

/// The iterator `as_completed` returns: completions of the asked-for tasks, in finishing order.
#[derive(Debug)]
pub struct AsCompleted<'a> {
    completions: &'a mut Completions,
    /// Tasks asked about and not yet yielded.
    pending: HashSet<TaskId>,
    /// Asked-for completions that had arrived before the call.
    ready: VecDeque<Completion>,
    /// When to stop waiting, if ever.
    deadline: Option<Instant>,
}

impl AsCompleted<'_> {
    /// The tasks that had not finished when the deadline passed (empty without a deadline once
    /// the iterator is exhausted). Their results, when they come, are kept for a later call.
    pub fn not_finished(self) -> Vec<Handle> {
        let mut ids: Vec<TaskId> = self.pending.into_iter().collect();
        ids.sort_unstable();
        ids.into_iter().map(Handle::new).collect()
    }
}

impl Iterator for AsCompleted<'_> {
    type Item = Completion;

    fn next(&mut self) -> Option<Completion> {
        if let Some(done) = self.ready.pop_front() {
            return Some(done);
        }
        while !self.pending.is_empty() {
            let received = match self.deadline {
                Some(deadline) => self.completions.rx.recv_deadline(deadline),
                // Every executor keeps a sender alive while it lives, so without a deadline this
                // only fails if the executor is gone, and then nothing more can arrive.
                None => self
                    .completions
                    .rx
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
        let order: Vec<TaskId> = completions
            .as_completed(vec![Handle::new(0), Handle::new(1), Handle::new(2)])
            .map(|c| c.id)
            .collect();
        assert_eq!(order, vec![2, 0, 1]);
        // Task 9 arrived while we waited for others; a later call gets it at once.
        let later: Vec<TaskId> = completions
            .as_completed(vec![Handle::new(9)])
            .map(|c| c.id)
            .collect();
        assert_eq!(later, vec![9]);
    }

    #[test]
    fn a_deadline_hands_back_what_is_still_out() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut completions = Completions::new(rx);
        tx.send(done(1)).unwrap();
        let deadline = Instant::now() + Duration::from_millis(20);
        let mut iter = completions.as_completed_until(
            vec![Handle::new(0), Handle::new(1), Handle::new(2)],
            Some(deadline),
        );
        assert_eq!(iter.next().map(|c| c.id), Some(1));
        assert_eq!(iter.next(), None);
        let out: Vec<TaskId> = iter.not_finished().iter().map(Handle::id).collect();
        assert_eq!(out, vec![0, 2]);
    }
}
