//! What every variant does around its threads: start them together, join them turning a panic
//! into an error, and time a sample of lock waits.

use std::sync::Barrier;
use std::thread::{self, ScopedJoinHandle};
use std::time::{Duration, Instant};

use timing::{Latencies, Stopwatch};

/// A worker thread panicked; the variant's result is not to be trusted.
#[derive(Debug, thiserror::Error)]
#[error("worker thread {index} of {variant} panicked: {message}")]
pub struct WorkerPanicked {
    /// The variant whose thread it was.
    pub variant: &'static str,
    /// Which thread, counting from 0 in the order they were spawned.
    pub index: usize,
    /// The panic's message, when it was a string.
    pub message: String,
}

/// Runs `body` on `workers` scoped threads that a barrier releases together, joins them all
/// with [`join_all`], and returns their values (or the first panic) and the wall time from the
/// first spawn to the last join.
///
/// Why the barrier: spawning takes tens of microseconds a thread, long enough for the first
/// threads to finish a short loop before the last one has started, and then nothing overlaps:
/// no update to lose in `racy`, no contention to measure in the others. Scoped threads, so
/// `body` may borrow the variant's counter from its stack frame without an `Arc`.
pub(crate) fn run_together<T: Send>(
    variant: &'static str,
    workers: usize,
    body: impl Fn() -> T + Sync,
) -> (Result<Vec<T>, WorkerPanicked>, Duration) {
    let start = Barrier::new(workers);
    Stopwatch::time(|| {
        thread::scope(|s| {
            let handles = (0..workers)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        body()
                    })
                })
                .collect();
            join_all(variant, handles)
        })
    })
}

/// Joins every handle, in order, and returns their values, or the first panic as an error.
///
/// Every handle is joined even after a panic: `thread::scope` re-raises the panic of any thread
/// left unjoined, which would turn the error back into a panic.
pub(crate) fn join_all<T>(
    variant: &'static str,
    handles: Vec<ScopedJoinHandle<'_, T>>,
) -> Result<Vec<T>, WorkerPanicked> {
    let mut values = Vec::with_capacity(handles.len());
    let mut first_panic = None;
    for (index, handle) in handles.into_iter().enumerate() {
        match handle.join() {
            Ok(value) => values.push(value),
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a non-string panic".to_string());
                first_panic.get_or_insert(WorkerPanicked {
                    variant,
                    index,
                    message,
                });
            }
        }
    }
    first_panic.map_or(Ok(values), Err)
}

/// One lock acquisition in this many is timed.
///
/// Reading the clock twice costs about as much as an uncontended lock, so timing every
/// acquisition would halve the rate being measured; one in 16 still gives tens of thousands of
/// samples per run, spread evenly over it.
pub const SAMPLE_EVERY: u64 = 16;

/// Runs `acquire` (a `lock()`, a `wait`) and, when `i` is a multiple of [`SAMPLE_EVERY`], records
/// how long it took into `waits`.
pub(crate) fn timed_wait<G>(i: u64, waits: &mut Latencies, acquire: impl FnOnce() -> G) -> G {
    if i.is_multiple_of(SAMPLE_EVERY) {
        let start = Instant::now();
        let guard = acquire();
        waits.record(start.elapsed());
        guard
    } else {
        acquire()
    }
}

/// Merges the per-thread latency records after the threads are joined.
pub(crate) fn merged(records: &[Latencies]) -> Latencies {
    let mut all = Latencies::new();
    for record in records {
        all.merge(record);
    }
    all
}

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

    #[test]
    fn one_wait_in_sample_every_is_timed() {
        let mut waits = Latencies::new();
        for i in 0..SAMPLE_EVERY * 4 {
            assert_eq!(timed_wait(i, &mut waits, || i), i);
        }
        assert_eq!(waits.count(), 4);
    }
}
