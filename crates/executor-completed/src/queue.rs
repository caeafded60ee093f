//! The thread executor's waiting line: a priority queue that is first-in first-out within one
//! priority.

use std::cmp::Reverse;
use std::collections::{BTreeMap, VecDeque};

use crate::completion::TaskId;
use crate::threads::Task;

/// A task waiting in the queue.
pub(crate) struct Queued {
    /// The task's id.
    pub id: TaskId,
    /// What to run.
    pub task: Task,
}

/// The priority queue: one first-in first-out line per priority level, highest level first.
///
/// A `BinaryHeap` keyed on (priority, submission number) would order tasks the same way, but
/// every pop sifts through the whole heap (about log2(n) cache misses under the lock, with
/// 200 000 tasks queued that is the pool's bottleneck). With a handful of levels, a map of
/// queues pops in constant time and still starts higher levels first.
#[derive(Default)]
pub(crate) struct Levels {
    lines: BTreeMap<Reverse<i32>, VecDeque<Queued>>,
}

impl Levels {
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

    /// Empties the queue, highest level first.
    pub fn take_all(&mut self) -> Vec<Queued> {
        std::mem::take(&mut self.lines)
            .into_values()
            .flatten()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(id: TaskId) -> Queued {
        Queued {
            id,
            task: Box::new(move || Ok(id)),
        }
    }

    #[test]
    fn higher_levels_first_then_oldest_first() {
        let mut levels = Levels::default();
        for (id, priority) in [(0, 1), (1, 5), (2, 1), (3, 5), (4, -2)] {
            levels.push(priority, queued(id));
        }
        let order: Vec<TaskId> = std::iter::from_fn(|| levels.pop()).map(|q| q.id).collect();
        assert_eq!(order, vec![1, 3, 0, 2, 4]);
        levels.push(0, queued(9));
        assert_eq!(levels.take_all().len(), 1);
        assert!(levels.pop().is_none());
    }
}
