//! Step 3: errors and panics as results: a task that returns `Err` or panics arrives through
//! `as_completed` as `Err`, carrying its id, and its worker carries on.
//!
//! Since step 2: the worker of step 1 runs each task through [`run_caught`]. Python keeps the
//! exception inside the future and raises it from `future.result()`; here the error is a value
//! in the completion, and the type says every way a task can end without one.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// Why a task has no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The task returned `Err` with this message.
    #[error("failed: {0}")]
    Failed(String),
    /// The task panicked; the worker caught it and carries on.
    #[error("panicked: {0}")]
    Panicked(String),
    /// The task never started: pending work was cancelled (step 4).
    #[error("cancelled before it started")]
    Cancelled,
    /// The worker process running the task died (killed, crashed); the message says how
    /// (step 7).
    #[error("worker lost: {0}")]
    WorkerLost(String),
}

/// Runs `task`, turning its `Err` into [`TaskError::Failed`] and a panic into
/// [`TaskError::Panicked`], so a failing task cannot take its worker down.
///
/// The panic's message is still printed where it happened, by the panic hook; the binary
/// shortens it to one line for tasks on executor threads.
pub fn run_caught(task: impl FnOnce() -> Result<u64, String>) -> Result<u64, TaskError> {
    // `AssertUnwindSafe` is sound here: the task is consumed by the call, so nothing can observe
    // whatever state its panic left half-done.
    match catch_unwind(AssertUnwindSafe(task)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(msg)) => Err(TaskError::Failed(msg)),
        Err(payload) => Err(TaskError::Panicked(reaper::panic_message(payload.as_ref()))),
    }
}

#[cfg(test)]
mod tests {
    use crate::steps::s1_submit::Executor;

    use super::*;

    #[test]
    fn errors_and_panics_arrive_as_err_and_the_worker_survives() {
        let mut ex = Executor::new(1).unwrap();
        let failing = ex.submit(|| Err("no".to_string()));
        let panicking = ex.submit(|| panic!("boom"));
        let fine = ex.submit(|| Ok(7));
        let mut outcomes: Vec<_> = ex
            .as_completed(vec![failing, panicking, fine])
            .map(|c| (c.id, c.outcome))
            .collect();
        outcomes.sort_by_key(|(id, _)| *id);
        assert_eq!(outcomes[0].1, Err(TaskError::Failed("no".into())));
        assert_eq!(outcomes[1].1, Err(TaskError::Panicked("boom".into())));
        assert_eq!(outcomes[2].1, Ok(7));
    }
}
