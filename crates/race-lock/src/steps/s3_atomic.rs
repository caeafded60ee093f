//! Step 3: no lock at all, one atomic read-modify-write per increment.
//!
//! Since step 1: one call, `fetch_add`, instead of `load` then `store`. Since step 2: no thread
//! ever waits for another to release anything.

// ANCHOR: pattern
use std::sync::Barrier;
use std::thread;

use super::{WorkerPanicked, join_all};
use crate::sync::{AtomicU64, Ordering};

/// A counter incremented with `fetch_add`: the read, the add and the write are one indivisible
/// instruction (`lock xadd` on x86), so there is no gap for another thread to use.
///
/// Contention still costs: the cache line holding the counter moves between cores on every
/// increment. For one number an atomic is the right tool; a lock is for data that spans more
/// than one word (step 4).
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

/// Runs `workers` threads that each call [`AtomicCounter::increment`] `increments` times and
/// returns the final count: every update arrives.
pub fn run(workers: usize, increments: u64) -> Result<u64, WorkerPanicked> {
    let counter = AtomicCounter::new();
    // All threads start together, so they contend (see step 1 for why).
    let start = Barrier::new(workers);
    thread::scope(|s| {
        let handles = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    for _ in 0..increments {
                        counter.increment();
                    }
                })
            })
            .collect();
        join_all("atomic", handles)
    })?;
    Ok(counter.get())
}
// ANCHOR_END: pattern

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn every_update_arrives() {
        assert_eq!(run(8, 10_000).unwrap(), 80_000);
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
