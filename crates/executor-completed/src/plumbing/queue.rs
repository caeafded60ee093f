//! The thread executor's waiting line: step 5's priority levels behind one `Mutex`, with a
//! `Condvar` that idle workers sleep on. Step 1 pushes and takes, step 4 empties it.

use std::sync::{Condvar, Mutex, MutexGuard};

use crate::steps::s1_submit::{Task, TaskId};
use crate::steps::s5_priority::Levels;

/// A task waiting in the line.
pub(crate) struct Queued {
    /// The task's id.
    pub id: TaskId,
    /// What to run.
    pub task: Task,
}

impl Queued {
    pub fn new(id: TaskId, task: impl FnOnce() -> Result<u64, String> + Send + 'static) -> Self {
        let task = Box::new(task);
        Self { id, task }
    }
}

/// The line and its wake-ups.
#[derive(Default)]
pub(crate) struct WaitingLine {
    /// Everything that changes together, under one lock.
    state: Mutex<State>,
    /// Signalled when a task is queued or the line closes; idle workers wait on it.
    work: Condvar,
}

#[derive(Default)]
struct State {
    /// Tasks waiting for a worker, highest priority first, then oldest first.
    queue: Levels,
    /// How many tasks workers have taken so far: the next task's start rank.
    started: u64,
    /// Workers asleep on the condvar; `push` only pays for a wake-up when one is.
    idle: usize,
    /// Set on shutdown: workers exit once the queue is empty.
    closing: bool,
}

impl WaitingLine {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nobody panics while holding this lock (tasks run outside it, under `catch_unwind`),
        // so poisoning would mean a bug in this module: propagate it.
        self.state.lock().expect("executor queue lock poisoned")
    }

    /// Adds a task at `priority` and wakes one sleeping worker, if any.
    pub fn push(&self, priority: i32, queued: Queued) {
        let wake = {
            let mut state = self.lock();
            state.queue.push(priority, queued);
            state.idle > 0
        };
        // Notify after unlocking, so the woken worker does not block on a lock we still hold.
        // Skipping it when nobody sleeps saves a futex call per task in a busy pool.
        if wake {
            self.work.notify_one();
        }
    }

    /// The next task and its start rank, sleeping while the line is empty; `None` once the
    /// line is closed and empty.
    pub fn take(&self) -> Option<(Queued, u64)> {
        let mut state = self.lock();
        loop {
            if let Some(queued) = state.queue.pop() {
                // Ranked under the lock, so ranks are exactly the order tasks left the line.
                let rank = state.started;
                state.started += 1;
                return Some((queued, rank));
            }
            if state.closing {
                return None;
            }
            state.idle += 1;
            // Poisoned only by a bug in this module, as in `lock`: propagate it.
            state = self.work.wait(state).expect("executor queue lock poisoned");
            state.idle -= 1;
        }
    }

    /// Empties the line, highest level first.
    pub fn take_all(&self) -> Vec<Queued> {
        self.lock().queue.take_all()
    }

    /// Lets the workers exit once the line is empty.
    pub fn close(&self) {
        self.lock().closing = true;
        self.work.notify_all();
    }
}
