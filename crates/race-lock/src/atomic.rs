//! Step 3: no lock at all, one atomic read-modify-write per increment.

use timing::Row;

use crate::sync::{AtomicU64, Ordering};
use crate::{LESSON, WorkerPanicked, run_together};

/// A counter incremented with `fetch_add`: the read, the add and the write are one indivisible
/// instruction (`lock xadd` on x86), so there is no gap for another thread to use.
///
/// What changed since [`RacyCounter`](crate::RacyCounter): one call instead of `load` then
/// `store`. Since [`MutexCounter`](crate::MutexCounter): no thread ever waits for another to
/// release anything, so there is no wait to time; contention still costs, as the cache line
/// holding the counter moves between cores.
#[derive(Debug)]
pub struct AtomicCounter {
    /// The count.
    value: AtomicU64,
}

impl Default for AtomicCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl AtomicCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self {
            value: AtomicU64::new(0),
        }
    }

    /// Adds one, atomically.
    pub fn increment(&self) {
        // Relaxed: atomicity of the read-modify-write does not depend on the ordering, and the
        // counter publishes no other data (a Release here would pair with an Acquire load by
        // whoever reads data written before it; there is none). The final read comes after
        // `join`, which orders every increment before it.
        self.value.fetch_add(1, Ordering::Relaxed);
    }

    /// The count; read it after joining the threads (the join is what orders their writes).
    pub fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }
}

/// Runs `workers` threads that each call [`AtomicCounter::increment`] `increments` times.
///
/// `expected` is `workers * increments`; every update must arrive. Usually the fastest exact
/// variant: for one number, an atomic is the right tool, and a lock is for data that spans more
/// than one word (see [`rwlock`](crate::rwlock())).
pub fn atomic(workers: usize, increments: u64) -> Result<Row, WorkerPanicked> {
    let counter = AtomicCounter::new();
    // All threads start together, so they contend (see `run_together`).
    let (joined, wall) = run_together("atomic", workers, || {
        for _ in 0..increments {
            counter.increment();
        }
    });
    joined?;
    let expected = workers as u64 * increments;
    Ok(Row::new(LESSON, "atomic")
        .workers(workers)
        .items(expected)
        .check(expected, counter.get())
        .wall(wall)
        .note("no lock, nothing to wait for"))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn every_update_arrives() {
        let row = atomic(8, 10_000).unwrap();
        assert_eq!((row.expected, row.result), (80_000, 80_000));
        assert!(row.correct);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use loom::sync::Arc;

    use super::*;

    /// In every interleaving of three threads, including Relaxed's weakest allowed outcomes,
    /// no `fetch_add` is lost.
    #[test]
    fn loom_atomic_counter_never_loses_an_update() {
        loom::model(|| {
            let counter = Arc::new(AtomicCounter::new());
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let counter = Arc::clone(&counter);
                    loom::thread::spawn(move || {
                        counter.increment();
                        counter.increment();
                    })
                })
                .collect();
            counter.increment();
            for t in threads {
                t.join().expect("the model thread does not panic");
            }
            assert_eq!(counter.get(), 5);
        });
    }
}
