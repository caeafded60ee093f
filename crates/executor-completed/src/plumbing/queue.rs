//! The thread executor's waiting line: one first-in first-out line per priority level behind one
//! `Mutex`, with a `Condvar` that idle workers sleep on. Step 2 pushes and takes, step 4 empties
//! it, step 5 pushes at a priority: priority lives here, in the line tasks wait in, and
//! nowhere in `as_completed`.

use std::cmp::Reverse;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::task::{Task, TaskId};

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

    // ANCHOR: push_take
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
    // ANCHOR_END: push_take

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

// ANCHOR: levels
/// The waiting tasks: one first-in first-out line per priority level, highest level first.
///
/// A `BinaryHeap` keyed on (priority, submission number) would order tasks the same way, but
/// every pop sifts through the whole heap (about log2(n) cache misses under the lock: with
/// hundreds of thousands of tasks queued, that is the pool's bottleneck). With a handful of
/// levels, a map of queues pops in constant time and still starts higher levels first.
#[derive(Default)]
pub(crate) struct Levels {
    lines: BTreeMap<Reverse<i32>, VecDeque<Queued>>,
}

impl Levels {
    /// Adds `queued` at the back of its level's line.
    pub fn push(&mut self, priority: i32, queued: Queued) {
        self.lines
            .entry(Reverse(priority))
            .or_default()
            .push_back(queued);
    }

    /// The oldest task of the highest level. Empty lines are removed, so the first is not empty.
    pub fn pop(&mut self) -> Option<Queued> {
        let mut line = self.lines.first_entry()?;
        let queued = line.get_mut().pop_front();
        if line.get().is_empty() {
            line.remove();
        }
        queued
    }

    /// Empties every line, highest level first (for step 4's cancel).
    pub fn take_all(&mut self) -> Vec<Queued> {
        std::mem::take(&mut self.lines)
            .into_values()
            .flatten()
            .collect()
    }
}
// ANCHOR_END: levels

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_levels_first_then_oldest_first() {
        let mut levels = Levels::default();
        for (id, priority) in [(0, 1), (1, 5), (2, 1), (3, 5), (4, -2)] {
            levels.push(priority, Queued::new(id, move || Ok(id)));
        }
        let order: Vec<TaskId> = std::iter::from_fn(|| levels.pop()).map(|q| q.id).collect();
        assert_eq!(order, vec![1, 3, 0, 2, 4]);
        levels.push(0, Queued::new(9, || Ok(9)));
        assert_eq!(levels.take_all().len(), 1);
        assert!(levels.pop().is_none());
    }
}
