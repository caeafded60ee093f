//! Step 2: the tutorial's `with lock: counter += 1`, as a `Mutex` that owns the counter.
//!
//! Since step 1: the read and the write happen while holding a lock, so no other thread can
//! come between them, and the value lives *inside* the lock.

// ANCHOR: pattern
use std::sync::Barrier;
use std::thread;

use super::{WorkerPanicked, join_all};
use crate::sync::{Mutex, MutexGuard};

/// A counter inside a `Mutex`.
///
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

/// Runs `workers` threads that each add one `increments` times through a [`MutexCounter`] and
/// returns the final count: every update arrives.
///
/// Why `std::sync::Mutex` and not another: it is a futex on Linux (no system call when
/// uncontended, a short spin then a sleep when contended); `parking_lot`'s is a little faster
/// under contention but would add a crate to teach what std already does.
pub fn run(workers: usize, increments: u64) -> Result<u64, WorkerPanicked> {
    let counter = MutexCounter::new();
    // All threads start together, so they contend (see step 1 for why).
    let start = Barrier::new(workers);
    thread::scope(|s| {
        let handles = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    for _ in 0..increments {
                        *counter.lock() += 1;
                    }
                })
            })
            .collect();
        join_all("mutex", handles)
    })?;
    Ok(counter.get())
}
// ANCHOR_END: pattern

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn every_update_arrives() {
        assert_eq!(run(8, 5_000).unwrap(), 40_000);
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
