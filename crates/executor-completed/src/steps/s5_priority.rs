//! Step 5: priority, where it really lives: in the line tasks wait in, not in `as_completed`.
//!
//! Since step 4: `submit_with_priority`, and the waiting line of step 1 keeps one first-in
//! first-out line per priority level, highest level first. The tutorial says `as_completed`
//! gives "control over task priority"; it cannot: it only reports tasks as they finish, and
//! has no say in which starts. Priority matters only when more tasks wait than workers are
//! free: a task submitted to an idle worker starts at once, whatever its priority.

use std::cmp::Reverse;
use std::collections::{BTreeMap, VecDeque};

use super::s1_submit::{Executor, Handle};
use crate::plumbing::queue::Queued;

impl Executor {
    /// Queues `task`; when more tasks wait than workers are free, the highest `priority` starts
    /// first, and tasks of equal priority in submission order ([`submit`](Executor::submit)
    /// is priority 0).
    pub fn submit_with_priority(
        &mut self,
        priority: i32,
        task: impl FnOnce() -> Result<u64, String> + Send + 'static,
    ) -> Handle {
        let id = self.take_id();
        self.line.push(priority, Queued::new(id, task));
        Handle::new(id)
    }
}

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

#[cfg(test)]
mod tests {
    use crate::steps::s1_submit::TaskId;

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

    #[test]
    fn queued_tasks_start_highest_priority_first() {
        let mut ex = Executor::new(1).unwrap();
        // Hold the only worker until every prioritised task is queued.
        let (gate_tx, gate_rx) = crossbeam_channel::bounded::<()>(0);
        let (started_tx, started_rx) = crossbeam_channel::bounded(1);
        let blocker = ex.submit(move || {
            started_tx.send(()).map_err(|e| e.to_string())?;
            Ok(u64::from(gate_rx.recv().is_err()))
        });
        started_rx.recv().unwrap();
        let handles: Vec<Handle> = [1, 5, 3]
            .into_iter()
            .map(|p| ex.submit_with_priority(p, move || Ok(0)))
            .collect();
        drop(gate_tx);
        let mut ranked: Vec<(u64, TaskId)> = ex
            .as_completed(handles)
            .map(|c| (c.start_rank.unwrap(), c.id))
            .collect();
        ranked.sort_unstable();
        let ids: Vec<TaskId> = ranked.into_iter().map(|(_, id)| id).collect();
        assert_eq!(ids, vec![2, 3, 1]);
        assert_eq!(ex.as_completed(vec![blocker]).count(), 1);
    }
}
