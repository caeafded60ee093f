//! The lesson, one step a file, in reading order. Each step is the pattern whole: its threads
//! are spawned in its own body, and it returns what it counted. Timing lives in
//! [`crate::measure`], never here.
//!
//! 0. [`s0_does_not_compile`]: the tutorial's program, rejected by the compiler.
//! 1. [`s1_racy`]: read, then write in a separate step: loses updates (deliberately broken).
//! 2. [`s2_mutex`]: the read and the write under one lock.
//! 3. [`s3_atomic`]: the read and the write as one instruction.
//! 4. [`s4_rwlock`]: many readers at once, one writer at a time.
//! 5. [`s5_semaphore`]: at most K threads at once, from a `Mutex` and a `Condvar`.
//! 6. [`s6_bounded_buffer`]: the same lock-and-wait pattern with two conditions.
//! 7. [`s7_producers_consumers`]: producers and consumers meeting at that buffer.

use std::thread::ScopedJoinHandle;

pub mod s0_does_not_compile;
pub mod s1_racy;
pub mod s2_mutex;
pub mod s3_atomic;
pub mod s4_rwlock;
pub mod s5_semaphore;
pub mod s6_bounded_buffer;
pub mod s7_producers_consumers;

// ANCHOR: join_all
/// A worker thread panicked; the step's result is not to be trusted.
#[derive(Debug, thiserror::Error)]
#[error("worker thread {index} of {step} panicked: {message}")]
pub struct WorkerPanicked {
    /// The step whose thread it was.
    pub step: &'static str,
    /// Which thread, counting from 0 in the order they were spawned.
    pub index: usize,
    /// The panic's message.
    pub message: String,
}

/// Joins every handle, in order, and returns their values, or the first panic as an error.
///
/// Every handle is joined even after a panic: `thread::scope` re-raises the panic of any thread
/// left unjoined, which would turn the error back into a panic.
pub fn join_all<T>(
    step: &'static str,
    handles: Vec<ScopedJoinHandle<'_, T>>,
) -> Result<Vec<T>, WorkerPanicked> {
    let mut values = Vec::with_capacity(handles.len());
    let mut first_panic = None;
    for (index, handle) in handles.into_iter().enumerate() {
        match handle.join() {
            Ok(value) => values.push(value),
            Err(payload) => {
                first_panic.get_or_insert(WorkerPanicked {
                    step,
                    index,
                    message: reaper::panic_message(payload.as_ref()),
                });
            }
        }
    }
    first_panic.map_or(Ok(values), Err)
}
// ANCHOR_END: join_all

#[cfg(all(test, not(loom)))]
mod tests {
    use std::thread;

    use super::*;

    #[test]
    fn a_panicking_worker_becomes_an_error_and_the_others_still_join() {
        let result = thread::scope(|s| {
            let handles = vec![s.spawn(|| 1), s.spawn(|| panic!("boom")), s.spawn(|| 3)];
            join_all("demo", handles)
        });
        let err = result.unwrap_err();
        assert_eq!(err.index, 1);
        assert_eq!(err.message, "boom");
        assert_eq!(err.to_string(), "worker thread 1 of demo panicked: boom");
    }
}
