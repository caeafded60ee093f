//! Step 4: many readers at once, one writer at a time, with `RwLock`.
//!
//! Since step 2: readers share the lock, so they wait only for a writer, never for each other;
//! and the state is two numbers, which no single atomic can guard.

// ANCHOR: pattern
use std::sync::Barrier;
use std::thread;

use super::{WorkerPanicked, join_all};
use crate::sync::RwLock;

/// One operation in this many is a write; the rest read.
pub const WRITE_EVERY: u64 = 10;

/// Two counts that writers keep equal, behind a `RwLock`.
///
/// The state is two numbers on purpose: a writer updates them one after the other, and a reader
/// that ever saw them differ would have seen a write half done (a torn read).
#[derive(Debug)]
pub struct RwCounter {
    /// `(a, b)`: a writer adds one to `a`, then to `b`; outside the write lock they are equal.
    pair: RwLock<(u64, u64)>,
}

impl Default for RwCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl RwCounter {
    /// Both counts at zero.
    pub fn new() -> Self {
        Self {
            pair: RwLock::new((0, 0)),
        }
    }

    /// Adds one to both counts, holding the write lock (no reader in between).
    pub fn increment(&self) {
        // Poisoned only if a worker panicked holding the lock; that panic is reported by the
        // join, so following it with another is right.
        let mut pair = self
            .pair
            .write()
            .expect("a worker panicked holding the lock");
        pair.0 += 1;
        pair.1 += 1;
    }

    /// Both counts, read together under the read lock (other readers may hold it too).
    pub fn read(&self) -> (u64, u64) {
        *self
            .pair
            .read()
            .expect("a worker panicked holding the lock")
    }
}

/// What [`run`] saw: the final pair, and how many reads caught a write half done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadMostly {
    /// The two counts after every thread joined; both equal the number of writes.
    pub pair: (u64, u64),
    /// Reads that saw the two counts differ (must be 0).
    pub torn_reads: u64,
}

/// Runs `workers` threads that each do `operations` operations on one [`RwCounter`]: a write
/// when the operation's index is a multiple of [`WRITE_EVERY`], a read otherwise.
///
/// Why not always a `RwLock`: it does more bookkeeping than a `Mutex`, and with short critical
/// sections it is often no faster; it pays when reads are many and long. std's is
/// writer-preferring on Linux, so writers do not starve behind a stream of readers.
pub fn run(workers: usize, operations: u64) -> Result<ReadMostly, WorkerPanicked> {
    let counter = RwCounter::new();
    let start = Barrier::new(workers);
    let torn: Vec<u64> = thread::scope(|s| {
        let handles = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    let mut torn = 0;
                    for i in 0..operations {
                        if i.is_multiple_of(WRITE_EVERY) {
                            counter.increment();
                        } else {
                            let (a, b) = counter.read();
                            torn += u64::from(a != b);
                        }
                    }
                    torn
                })
            })
            .collect();
        join_all("rwlock", handles)
    })?;
    Ok(ReadMostly {
        pair: counter.read(),
        torn_reads: torn.iter().sum(),
    })
}
// ANCHOR_END: pattern

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn every_write_arrives_and_no_read_is_torn() {
        // 1 005 operations per thread: writes at 0, 10, ..., 1 000, so 101 each.
        let seen = run(6, 1_005).unwrap();
        assert_eq!(seen.pair, (606, 606));
        assert_eq!(seen.torn_reads, 0);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use loom::sync::Arc;

    use super::*;

    /// Whatever the interleaving, a reader never sees a write half done and no write is lost.
    #[test]
    fn loom_rwlock_reader_never_sees_a_torn_write() {
        loom::model(|| {
            let counter = Arc::new(RwCounter::new());
            let writer = {
                let counter = Arc::clone(&counter);
                loom::thread::spawn(move || counter.increment())
            };
            let (a, b) = counter.read();
            assert_eq!(a, b);
            counter.increment();
            writer.join().expect("the model thread does not panic");
            assert_eq!(counter.read(), (2, 2));
        });
    }
}
