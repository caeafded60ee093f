//! Times each step and builds its row: wall time, throughput, the checked numbers and, where
//! threads wait for one another, a sample of those waits.
//!
//! Where only the wall time is needed ([`racy`], [`atomic`]) the step runs as written. Where a
//! wait must be timed inside the loop, the loop is here, beside the step it instruments: the
//! same threads and the same calls, with one call in [`SAMPLE_EVERY`] timed.

use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use timing::{Latencies, Mechanism, Row, Stopwatch};

use crate::LESSON;
use crate::steps::s4_rwlock::ReadMostly;
use crate::steps::s5_semaphore::Admitted;
use crate::steps::s7_producers_consumers::Received;
use crate::steps::{WorkerPanicked, join_all};

mod counters;
mod waiting;

pub use counters::{atomic, mutex, racy, rwlock};
pub use waiting::{condvar, semaphore};

/// One lock acquisition in this many is timed.
///
/// Reading the clock twice costs about as much as an uncontended lock, so timing every
/// acquisition would halve the rate being measured; one in 16 still gives tens of thousands of
/// samples per run, spread evenly over it.
pub const SAMPLE_EVERY: u64 = 16;

/// A step's row, and what the step returned, for the verdict to read.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The row printed in the table and as JSON.
    pub row: Row,
    /// What the step counted, typed.
    pub outcome: Outcome,
}

/// What each step counted, beside the number it should have counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Step 1: the count, against `workers * increments`.
    Racy {
        /// Updates made.
        expected: u64,
        /// Updates the counter kept.
        counted: u64,
    },
    /// Steps 2 and 3: the count, against `workers * increments`.
    Counted {
        /// Updates made.
        expected: u64,
        /// Updates the counter kept.
        counted: u64,
    },
    /// Step 4: the final pair and the torn reads, against the number of writes.
    ReadMostly {
        /// Writes made.
        writes: u64,
        /// What the threads saw.
        seen: ReadMostly,
    },
    /// Step 5: holders seen, against the tasks run, and the most at once, against the permits.
    Admitted {
        /// Tasks run.
        tasks: u64,
        /// Permits the semaphore had.
        permits: usize,
        /// What the holders saw.
        admitted: Admitted,
    },
    /// Step 7: what the consumers received, against each item once.
    Received {
        /// Each of `0..items` once, in closed form.
        want: Received,
        /// What arrived.
        received: Received,
    },
}

/// Runs `body` on `workers` scoped threads that a barrier releases together, as the steps do,
/// and returns their values (or the first panic) and the wall time from the first spawn to the
/// last join.
fn together<T: Send>(
    step: &'static str,
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
            join_all(step, handles)
        })
    })
}

/// Runs `acquire` (a `lock()`, a `wait`) and, when `i` is a multiple of [`SAMPLE_EVERY`], records
/// how long it took into `waits`.
fn timed_wait<G>(i: u64, waits: &mut Latencies, acquire: impl FnOnce() -> G) -> G {
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
fn merged(records: impl IntoIterator<Item = Latencies>) -> Latencies {
    let mut all = Latencies::new();
    for record in records {
        all.merge(&record);
    }
    all
}

/// A row of this lesson: every step runs on threads.
fn row(variant: &str, workers: usize) -> Row {
    Row::new(LESSON, variant)
        .mechanism(Mechanism::Threads)
        .workers(workers)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn one_wait_in_sample_every_is_timed() {
        let mut waits = Latencies::new();
        for i in 0..SAMPLE_EVERY * 4 {
            assert_eq!(timed_wait(i, &mut waits, || i), i);
        }
        assert_eq!(waits.count(), 4);
    }
}
