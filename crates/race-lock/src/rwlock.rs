//! Step 4: many readers at once, one writer at a time, with `RwLock`.

use timing::Row;

use crate::sync::RwLock;
use crate::{LESSON, WorkerPanicked, merged, run_together, timed_wait};

/// In this variant, one operation in this many is a write; the rest read.
pub const WRITE_EVERY: u64 = 10;

/// Two counts that writers keep equal, behind a `RwLock`.
///
/// What changed since [`MutexCounter`](crate::MutexCounter): readers share the lock, so they do
/// not wait for one another, only for a writer. The state is two numbers on purpose: a writer
/// updates them one after the other, and a reader that ever saw them differ would have seen a
/// write half done. An atomic cannot guard two words at once; a lock can.
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

/// What one reader-writer thread did.
#[derive(Debug, Default)]
struct Tally {
    /// Reads that saw the two counts differ: a write seen half done (must stay 0).
    torn: u64,
    /// The sampled waits for either lock.
    waits: timing::Latencies,
}

/// Runs `workers` threads that each do `operations` operations on one [`RwCounter`], one in
/// [`WRITE_EVERY`] a write and the rest reads, timing a sample of the waits for the lock.
///
/// `expected` is the number of writes, `workers * ceil(operations / WRITE_EVERY)`, and the row
/// is correct only if no read saw the two counts differ. Why not always a `RwLock`: it does more
/// bookkeeping than a `Mutex`, and with short critical sections it is often no faster; it pays
/// when reads are many and long. std's is writer-preferring on Linux, so writers do not starve.
pub fn rwlock(workers: usize, operations: u64) -> Result<Row, WorkerPanicked> {
    let counter = RwCounter::new();
    // All threads start together, so they contend (see `run_together`).
    let (joined, wall) = run_together("rwlock", workers, || read_mostly(&counter, operations));
    let tallies = joined?;
    let torn: u64 = tallies.iter().map(|t| t.torn).sum();
    let waits: Vec<_> = tallies.into_iter().map(|t| t.waits).collect();
    let expected = workers as u64 * operations.div_ceil(WRITE_EVERY);
    let (a, b) = counter.read();
    Ok(Row::new(LESSON, "rwlock")
        .workers(workers)
        .items(workers as u64 * operations)
        .check(expected, a)
        .require(a == b && torn == 0)
        .wall(wall)
        .latencies(&merged(&waits))
        .extra("torn_reads", torn)
        .note(format!("1 write in {WRITE_EVERY}; torn reads {torn}")))
}

/// One thread's share of [`rwlock`]: writes when `i` is a multiple of [`WRITE_EVERY`], reads
/// otherwise.
fn read_mostly(counter: &RwCounter, operations: u64) -> Tally {
    let mut tally = Tally::default();
    for i in 0..operations {
        if i.is_multiple_of(WRITE_EVERY) {
            timed_wait(i, &mut tally.waits, || counter.increment());
        } else {
            let (a, b) = timed_wait(i, &mut tally.waits, || counter.read());
            tally.torn += u64::from(a != b);
        }
    }
    tally
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn every_write_arrives_and_no_read_is_torn() {
        let row = rwlock(6, 1_005).unwrap();
        // 1 005 operations per thread: writes at 0, 10, ..., 1 000, so 101 each.
        assert_eq!((row.expected, row.result), (606, 606));
        assert_eq!(row.extra["torn_reads"], 0);
        assert!(row.correct);
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
