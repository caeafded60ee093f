//! The accounting every variant ends with: each submitted task counted exactly once, as
//! finished, failed, timed out or cancelled, and the row that says whether that held.

use std::collections::HashSet;

use serde_json::json;
use timing::{Mechanism, Row};

use crate::task::{Completion, Handle, TaskError, TaskId};

/// Where every submitted task ended up.
#[derive(Debug, Default)]
pub struct Tally {
    /// Every task `as_completed` yielded, in the order it yielded them.
    pub completion_order: Vec<TaskId>,
    /// Tasks that returned a value, with it.
    pub finished: Vec<(TaskId, u64)>,
    /// Tasks that returned an error, panicked or lost their worker, with why.
    pub failed: Vec<(TaskId, TaskError)>,
    /// Tasks not finished when the deadline passed.
    pub timed_out: Vec<TaskId>,
    /// Tasks cancelled before they started.
    pub cancelled: Vec<TaskId>,
}

impl Tally {
    /// Files one completion under its outcome.
    pub fn record(&mut self, done: Completion) {
        self.completion_order.push(done.id);
        match done.outcome {
            Ok(value) => self.finished.push((done.id, value)),
            Err(TaskError::Cancelled) => self.cancelled.push(done.id),
            Err(err) => self.failed.push((done.id, err)),
        }
    }

    /// Files the tasks `as_completed` handed back at its deadline.
    pub fn time_out(&mut self, handles: &[Handle]) {
        self.timed_out.extend(handles.iter().map(Handle::id));
    }

    /// How many tasks are accounted for: the sum of the four counts.
    pub fn accounted(&self) -> u64 {
        (self.finished.len() + self.failed.len() + self.timed_out.len() + self.cancelled.len())
            as u64
    }

    /// Whether no task was counted twice.
    pub fn ids_unique(&self) -> bool {
        let ids = self.finished.iter().map(|&(id, _)| id);
        let ids = ids.chain(self.failed.iter().map(|(id, _)| *id));
        let ids = ids.chain(self.timed_out.iter().copied());
        let ids: HashSet<TaskId> = ids.chain(self.cancelled.iter().copied()).collect();
        ids.len() as u64 == self.accounted()
    }

    /// Whether every finished task returned its input squared (every variant's input is its id).
    pub fn values_are_squares(&self) -> bool {
        self.finished.iter().all(|&(id, value)| value == id * id)
    }

    /// The ids of the failed tasks, sorted.
    pub fn failed_ids(&self) -> Vec<TaskId> {
        let mut ids: Vec<TaskId> = self.failed.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids
    }

    /// The counts, for the verdicts.
    pub fn counts(&self, submitted: u64) -> Counts {
        Counts {
            submitted,
            finished: self.finished.len(),
            failed: self.failed.len(),
            timed_out: self.timed_out.len(),
            cancelled: self.cancelled.len(),
            ids_unique: self.ids_unique(),
        }
    }

    /// The row for `variant`: `expected` = tasks submitted, `result` = tasks accounted for, and
    /// correct only if no id was counted twice and every value is right. Variants `require` more.
    pub fn row(&self, variant: &str, mechanism: Mechanism, workers: usize, submitted: u64) -> Row {
        let errors: Vec<_> = self
            .failed
            .iter()
            .map(|(id, err)| json!({"id": id, "error": err.to_string()}))
            .collect();
        Row::new(crate::LESSON, variant)
            .mechanism(mechanism)
            .workers(workers)
            .check(submitted, self.accounted())
            .require(self.ids_unique() && self.values_are_squares())
            .extra("finished", self.finished.len())
            .extra("failed", self.failed.len())
            .extra("timed_out", self.timed_out.len())
            .extra("cancelled", self.cancelled.len())
            .extra("ids_unique", self.ids_unique())
            .extra("completion_order", self.completion_order.clone())
            .extra("errors", errors)
    }
}

/// Where a variant's tasks ended up, counted: what the verdicts read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Tasks submitted.
    pub submitted: u64,
    /// Tasks that returned a value.
    pub finished: usize,
    /// Tasks that returned an error, panicked or lost their worker.
    pub failed: usize,
    /// Tasks not finished at the deadline.
    pub timed_out: usize,
    /// Tasks cancelled before they started.
    pub cancelled: usize,
    /// Whether no task was counted twice.
    pub ids_unique: bool,
}

impl Counts {
    /// Whether every submitted task was counted exactly once.
    pub fn each_once(&self) -> bool {
        let accounted = self.finished + self.failed + self.timed_out + self.cancelled;
        self.ids_unique && accounted as u64 == self.submitted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completion(id: TaskId, outcome: Result<u64, TaskError>) -> Completion {
        Completion {
            id,
            start_rank: None,
            outcome,
        }
    }

    #[test]
    fn four_outcomes_add_up() {
        let mut tally = Tally::default();
        tally.record(completion(0, Ok(0)));
        tally.record(completion(2, Err(TaskError::Failed("x".into()))));
        tally.record(completion(3, Err(TaskError::Cancelled)));
        tally.time_out(&[Handle::new(1)]);
        assert_eq!(tally.accounted(), 4);
        assert!(tally.ids_unique());
        let row = tally.row("errors", Mechanism::Threads, 2, 4);
        assert!(tally.counts(4).each_once());
        assert!(row.correct);
        assert_eq!(row.extra["failed"], 1);
    }

    #[test]
    fn a_task_counted_twice_or_a_wrong_value_fails_the_row() {
        let mut tally = Tally::default();
        tally.record(completion(1, Ok(1)));
        tally.record(completion(1, Err(TaskError::Cancelled)));
        assert!(!tally.ids_unique());
        assert!(!tally.row("cancel", Mechanism::Threads, 1, 2).correct);
        assert!(!tally.counts(2).each_once());
        let mut wrong = Tally::default();
        wrong.record(completion(3, Ok(10)));
        assert!(!wrong.row("x", Mechanism::Threads, 1, 1).correct);
    }
}
