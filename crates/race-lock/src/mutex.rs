//! Step 2: the tutorial's `with lock: counter += 1`, as a `Mutex` that owns the counter.

use timing::{Latencies, Row};

use crate::sync::{Mutex, MutexGuard};
use crate::{LESSON, WorkerPanicked, merged, run_together, timed_wait};

/// A counter inside a `Mutex`: the read and the write happen while holding the lock, so no other
/// thread can come between them.
///
/// What changed since [`RacyCounter`](crate::RacyCounter): the value lives *inside* the lock.
/// Python's `threading.Lock` sits beside the data it guards, and nothing stops code that forgets
/// `with lock:`; in Rust the only way to reach the `u64` is through the guard `lock()` returns.
#[derive(Debug)]
pub struct MutexCounter {
    /// The count, reachable only while holding the lock.
    value: Mutex<u64>,
}

impl Default for MutexCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl MutexCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self {
            value: Mutex::new(0),
        }
    }

    /// Takes the lock, waiting while another thread holds it.
    pub fn lock(&self) -> MutexGuard<'_, u64> {
        // A poisoned lock means a worker panicked while holding it; that panic is already on its
        // way to `join_all` as an error, so panicking here as well (rather than counting on from
        // a value nobody vouches for) is right.
        self.value
            .lock()
            .expect("a worker panicked holding the lock")
    }

    /// Adds one; the lock is released when the guard drops at the end of the statement.
    pub fn increment(&self) {
        *self.lock() += 1;
    }

    /// The count.
    pub fn get(&self) -> u64 {
        *self.lock()
    }
}

/// Runs `workers` threads that each add one `increments` times through a [`MutexCounter`],
/// timing a sample of the waits for the lock.
///
/// `expected` is `workers * increments`; every update must arrive. Why `std::sync::Mutex` and
/// not another: it is a futex on Linux (no system call when uncontended, a short spin then a
/// sleep when contended); `parking_lot`'s is a little faster under contention but would add a
/// crate to teach what std already does.
pub fn mutex(workers: usize, increments: u64) -> Result<Row, WorkerPanicked> {
    let counter = MutexCounter::new();
    // All threads start together, so they contend (see `run_together`).
    let (joined, wall) = run_together("mutex", workers, || {
        // Each thread records its own waits (no shared histogram to contend on); they are
        // merged after the join.
        let mut waits = Latencies::new();
        for i in 0..increments {
            *timed_wait(i, &mut waits, || counter.lock()) += 1;
        }
        waits
    });
    let waits = merged(&joined?);
    let expected = workers as u64 * increments;
    Ok(Row::new(LESSON, "mutex")
        .workers(workers)
        .items(expected)
        .check(expected, counter.get())
        .wall(wall)
        .latencies(&waits)
        .note("wait for the lock"))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn every_update_arrives() {
        let row = mutex(8, 5_000).unwrap();
        assert_eq!((row.expected, row.result), (40_000, 40_000));
        assert!(row.correct);
        assert!(row.p50_ns.is_some());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use loom::sync::Arc;

    use super::*;

    /// In every interleaving of two threads (each incrementing twice) and the main thread's
    /// own increment, no update is lost.
    #[test]
    fn loom_mutex_counter_never_loses_an_update() {
        loom::model(|| {
            let counter = Arc::new(MutexCounter::new());
            let other = Arc::clone(&counter);
            let t = loom::thread::spawn(move || {
                other.increment();
                other.increment();
            });
            counter.increment();
            t.join().expect("the model thread does not panic");
            assert_eq!(counter.get(), 3);
        });
    }
}
