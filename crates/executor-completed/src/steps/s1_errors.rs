//! Step 1: a task that cannot take its worker down: its `Err` and its panic both become a value,
//! a [`TaskError`], so a worker that runs it carries on and its caller gets a result either way.
//!
//! The start, before any pool: whatever a worker runs goes through [`run_caught`]. Python keeps
//! the exception inside the future and raises it from `future.result()`; here the error is a
//! value in the task's completion, and [`TaskError`] (`crate::task`, the vocabulary every step
//! shares) says every way a task can end without one. Step 2's thread workers and step 6's
//! worker processes both run every task this way.

// ANCHOR: pattern
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::task::TaskError;

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
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_an_error_and_a_panic_all_come_back() {
        assert_eq!(run_caught(|| Ok(7)), Ok(7));
        assert_eq!(
            run_caught(|| Err("no".to_string())),
            Err(TaskError::Failed("no".into()))
        );
        let x = 5;
        assert_eq!(
            run_caught(|| panic!("boom {x}")),
            Err(TaskError::Panicked("boom 5".into()))
        );
    }
}
