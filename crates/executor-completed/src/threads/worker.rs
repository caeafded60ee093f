//! What the thread executor's workers share with the submitting thread (one lock over the queue
//! and its counters, one condition variable), and the loop every worker thread runs.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, Mutex, MutexGuard};

use crossbeam_channel::Sender;

use crate::completion::{Completion, TaskError};
use crate::queue::Levels;

/// State shared by the submitting thread and the workers.
pub(super) struct Shared {
    /// Everything that changes together, under one lock.
    pub state: Mutex<State>,
    /// Signalled when a task is queued or the executor closes; workers wait on it.
    pub work: Condvar,
}

/// The part of [`Shared`] under the lock.
pub(super) struct State {
    /// Tasks waiting for a worker, highest priority first, then oldest first.
    pub queue: Levels,
    /// How many tasks workers have taken so far: the next task's start rank.
    pub started: u64,
    /// Workers asleep on the condvar; `submit` only pays for a wake-up when one is.
    pub idle: usize,
    /// Set on shutdown: workers exit once the queue is empty.
    pub closing: bool,
}

impl Shared {
    /// The state, locked.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A worker never panics while holding the lock (tasks run outside it, under
        // `catch_unwind`), so poisoning would mean a bug in this module: propagate it.
        self.state.lock().expect("executor queue lock poisoned")
    }
}

/// One worker: take the best task, run it outside the lock, report, repeat until closed.
pub(super) fn worker_loop(shared: &Shared, done_tx: &Sender<Completion>) {
    loop {
        let (queued, rank) = {
            let mut state = shared.lock();
            loop {
                if let Some(queued) = state.queue.pop() {
                    // Ranked under the lock, so ranks are exactly the order tasks left the queue.
                    let rank = state.started;
                    state.started += 1;
                    break (queued, rank);
                }
                if state.closing {
                    return;
                }
                state.idle += 1;
                // Poisoned only by a bug in this module, as in `Shared::lock`: propagate it.
                state = shared
                    .work
                    .wait(state)
                    .expect("executor queue lock poisoned");
                state.idle -= 1;
            }
        };
        // A panicking task must not take its worker down: catch it and report it as the task's
        // error. `AssertUnwindSafe` is sound here because the task is consumed by the call, so
        // nothing can observe whatever state the panic left half-done.
        let outcome = match catch_unwind(AssertUnwindSafe(queued.task)) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(msg)) => Err(TaskError::Failed(msg)),
            Err(payload) => Err(TaskError::Panicked(reaper::panic_message(payload.as_ref()))),
        };
        let done = Completion {
            id: queued.id,
            start_rank: Some(rank),
            outcome,
        };
        // The executor holds the receiver until every worker is joined, so this cannot fail.
        let _ = done_tx.send(done);
    }
}
