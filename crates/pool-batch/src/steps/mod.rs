//! The lesson, one step a file, in reading order. Each step is the pattern whole: its threads
//! and processes start in its own body, and it returns the results it computed. Timing lives in
//! [`crate::measure`], never here.
//!
//! 1. [`s1_channel_pool`]: worker threads fed by one channel; `map`, one item a job.
//! 2. [`s2_chunked`]: the same pool, `chunk` items a job (Python's `chunksize`).
//! 3. [`s3_tuned_map`]: the chunked map tuned: fewer messages, no fresh memory per chunk.
//! 4. [`s4_idle_spin`]: idle workers spin briefly before they sleep.
//! 5. [`s5_worker_process`]: one worker process: the program re-executed, text over pipes.
//! 6. [`s6_process_pool`]: a pool of those processes, with a dead worker replaced.
//! 7. [`s7_batches`]: the tutorial's new pool per batch, beside one pool for every batch.
//! 8. [`s8_rayon`]: the yardstick: rayon's `par_iter`, no pool of our own.
//!
//! What every step shares is below: the error one item can end in and the one a pool can, one
//! task run with its panic caught, and answers put back in input order.

use std::panic::{AssertUnwindSafe, catch_unwind};

pub mod s1_channel_pool;
pub mod s2_chunked;
pub mod s3_tuned_map;
pub mod s4_idle_spin;
pub mod s5_worker_process;
pub mod s6_process_pool;
pub mod s7_batches;
pub mod s8_rayon;

// ANCHOR: errors
/// Why one item has no result. Every item of a map gets either its result or one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The task panicked; the message is the panic's payload. The worker survived it.
    #[error("task panicked: {0}")]
    Panicked(String),
    /// A worker process died while running this item, twice (see step 6).
    #[error("worker process died running this item: {0}")]
    WorkerDied(String),
    /// The pool stopped before answering (every worker gone); never seen in a healthy pool.
    #[error("the pool stopped before this item was answered")]
    Lost,
}

/// A pool failure, as opposed to one item's failure.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The OS refused to start a worker thread or process.
    #[error("could not start a worker: {0}")]
    Spawn(#[from] std::io::Error),
    /// A worker thread panicked outside any job (a bug in the pool itself).
    #[error("worker thread {0} panicked")]
    WorkerPanicked(usize),
    /// Jobs given to `ThreadPool::execute` panicked; their workers caught it and went on. A
    /// map never ends in this: its tasks' panics are its items' errors.
    #[error("jobs given to execute that panicked: {0} (their workers caught it and went on)")]
    JobsPanicked(usize),
}

/// One result per item, in input order.
pub type Results<R> = Vec<Result<R, TaskError>>;
// ANCHOR_END: errors

// ANCHOR: helpers
/// Runs one task, turning a panic into an error for this item.
pub fn run_caught<T, R>(f: &(impl Fn(T) -> R + ?Sized), item: T) -> Result<R, TaskError> {
    // `AssertUnwindSafe`: after a panic we never look at the item or any state the task may
    // have left half-updated; only the panic message survives, so nothing broken is observed.
    catch_unwind(AssertUnwindSafe(|| f(item)))
        .map_err(|payload| TaskError::Panicked(reaper::panic_message(&*payload)))
}

/// Puts runs of answers `(start, results)`, arriving in any order, back in input order: every
/// slot starts empty, each answer fills its own, and a slot nobody filled is `Lost`.
pub fn in_order<R, Run>(n: usize, runs: impl IntoIterator<Item = (usize, Run)>) -> Results<R>
where
    Run: IntoIterator<Item = Result<R, TaskError>>,
{
    let mut slots: Vec<Option<Result<R, TaskError>>> = (0..n).map(|_| None).collect();
    for (start, results) in runs {
        // A run past the end cannot come from our pools (they number the items they were
        // given); `get_mut` and `zip` drop it rather than panic the caller.
        let free = slots.get_mut(start..).unwrap_or_default();
        for (slot, result) in free.iter_mut().zip(results) {
            *slot = Some(result);
        }
    }
    slots
        .into_iter()
        .map(|slot| slot.unwrap_or(Err(TaskError::Lost)))
        .collect()
}
// ANCHOR_END: helpers

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_go_back_in_place_and_gaps_are_lost() {
        let runs = [(3, vec![Ok(30), Ok(40)]), (0, vec![Ok(0), Ok(10)])];
        let out: Results<u32> = in_order(6, runs);
        let lost = || Err(TaskError::Lost);
        assert_eq!(out, [Ok(0), Ok(10), lost(), Ok(30), Ok(40), lost()]);
        let out: Results<u32> = in_order(2, [(1, vec![Ok(1), Ok(2)]), (9, vec![Ok(9)])]);
        assert_eq!(out, [lost(), Ok(1)]);
    }

    #[test]
    fn a_panic_becomes_the_items_error() {
        let f = |x: u8| if x == 0 { panic!("zero") } else { x };
        assert_eq!(run_caught(&f, 0), Err(TaskError::Panicked("zero".into())));
        assert_eq!(run_caught(&f, 2), Ok(2));
    }
}
