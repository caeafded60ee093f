//! Step 1, deliberately broken: the tutorial's `counter += 1` as a read and a separate write.
//!
//! Since step 0: the counter is an atomic, so ten threads may share it and the program
//! compiles; but the increment still reads, then writes, and so loses updates.

// ANCHOR: pattern
use std::sync::Barrier;
use std::thread;

use super::{WorkerPanicked, join_all};
use crate::sync::{AtomicU64, Ordering};

/// A counter whose increment reads, then writes in a separate step: **deliberately broken**.
///
/// Each access is atomic, so this is safe Rust with no undefined behaviour. What is missing is
/// that the read and the write happen as one step: between them another thread can store its
/// own increment, and this thread's store then overwrites it with a stale value plus one. That
/// increment is lost, exactly as in the Python tutorial.
#[derive(Debug)]
pub struct RacyCounter {
    /// The count; every thread reads and writes it, with a gap between.
    value: AtomicU64,
}

impl Default for RacyCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl RacyCounter {
    /// A counter at zero.
    pub fn new() -> Self {
        Self {
            value: AtomicU64::new(0),
        }
    }

    /// Adds one, unless another thread writes between this read and this write.
    pub fn increment(&self) {
        // Relaxed on both: the memory ordering is not the bug (SeqCst loses just as many), the
        // gap between the two operations is. Nothing else is published through this counter,
        // so there is no Release store for an Acquire load to pair with.
        let seen = self.value.load(Ordering::Relaxed);
        // The gap: a pause of a few dozen cycles, standing for the work a real read-modify-write
        // does between reading and writing (Python's tutorial needs a call there to lose
        // anything). Without it the compiler fuses this load and store into one `inc` on
        // memory: still not atomic across two cores, so two threads running at once still lose
        // updates, but no interrupt can split one instruction, so threads taking turns on one
        // core (a busy machine) lose none, much as CPython's `+= 1`.
        std::hint::spin_loop();
        self.value.store(seen + 1, Ordering::Relaxed);
    }

    /// The count. Read it after joining the threads: the join orders their stores before this
    /// load, which is why Relaxed is enough here.
    pub fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }
}

/// Runs `workers` threads that each call [`RacyCounter::increment`] `increments` times and
/// returns the final count: **deliberately broken**, it returns fewer than
/// `workers * increments` whenever two threads overlap, and says so rather than asserting.
pub fn run(workers: usize, increments: u64) -> Result<u64, WorkerPanicked> {
    let counter = RacyCounter::new();
    // Why the barrier: spawning takes tens of microseconds a thread, long enough for the first
    // threads to finish before the last has started; then nothing overlaps and nothing is lost.
    let start = Barrier::new(workers);
    // Scoped threads may borrow `counter` from this stack frame: no `Arc` needed, and the scope
    // joins them all before returning.
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
        join_all("racy", handles)
    })?;
    Ok(counter.get())
}
// ANCHOR_END: pattern

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn one_thread_alone_loses_nothing() {
        assert_eq!(run(1, 10_000).unwrap(), 10_000);
    }

    #[test]
    fn many_threads_never_count_more_than_they_added() {
        assert!(run(4, 20_000).unwrap() <= 80_000);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use loom::sync::Arc;

    use super::*;

    /// The model check finds the interleaving the stress test can only hope for: both threads
    /// load 0, both store 1. Expected to fail, so it is `should_panic`.
    #[test]
    #[should_panic(expected = "lost an update")]
    fn loom_racy_counter_can_lose_an_update() {
        loom::model(|| {
            let counter = Arc::new(RacyCounter::new());
            let other = Arc::clone(&counter);
            let t = loom::thread::spawn(move || other.increment());
            counter.increment();
            t.join().expect("the model thread does not panic");
            assert_eq!(counter.get(), 2, "lost an update");
        });
    }
}
