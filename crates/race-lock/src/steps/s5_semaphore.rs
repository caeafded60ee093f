//! Step 5: `threading.Semaphore(k)`, built from a `Mutex` and a `Condvar`.
//!
//! Since step 2: a thread that finds the lock's condition unmet (no permit free) does not spin
//! or retry; it sleeps on a `Condvar` until a holder returns a permit and wakes it.

// ANCHOR: pattern
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use super::{WorkerPanicked, join_all};
use crate::sync::{AtomicU64, AtomicUsize, Condvar, Mutex, Ordering};

/// How long each task holds its permit: a stand-in for the I/O a semaphore usually rations
/// (connections to one server, files open at once).
pub const HOLD: Duration = Duration::from_micros(100);

/// A counting semaphore: at most `permits` holders at once; others wait.
///
/// The standard library has none (an unstable `std::sync::Semaphore` was deprecated in Rust 1.7
/// and removed). `tokio::sync::Semaphore` is for async tasks, and the small crates that keep the
/// old std one are unmaintained; a `Mutex` around the free count and a `Condvar` to sleep on
/// are all it takes, and they are the pattern step 6 uses again.
#[derive(Debug)]
pub struct Semaphore {
    /// Permits not held right now.
    free: Mutex<usize>,
    /// Signalled each time a permit is returned; waiters sleep on it while `free` is 0.
    returned: Condvar,
}

/// A held permit; dropping it gives the permit back, so an early return or a panic cannot leak it.
#[derive(Debug)]
pub struct Permit<'a> {
    /// The semaphore to return the permit to.
    semaphore: &'a Semaphore,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Self {
        Self {
            free: Mutex::new(permits),
            returned: Condvar::new(),
        }
    }

    /// Waits until a permit is free and takes it.
    pub fn acquire(&self) -> Permit<'_> {
        // Poisoned only if a thread panicked inside these few lines, which do not panic.
        let mut free = self
            .free
            .lock()
            .expect("the semaphore's lock is never poisoned");
        // A loop, not an `if`: a wait can end without a notify (a spurious wakeup), or another
        // thread can take the permit between the notify and this thread running again.
        while *free == 0 {
            free = self
                .returned
                .wait(free)
                .expect("the semaphore's lock is never poisoned");
        }
        *free -= 1;
        Permit { semaphore: self }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        // `into_inner` on poison: a drop during a panic must not panic again (that aborts).
        let mut free = self
            .semaphore
            .free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *free += 1;
        // `notify_one`, not `notify_all`: one permit came back and every waiter waits for the
        // same thing, so waking one is enough; waking all would send the rest back to sleep.
        self.semaphore.returned.notify_one();
    }
}

/// What [`run`] observed from inside the permits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    /// Holders seen inside a permit, counted by a counter apart from the threads' loops.
    pub holders_seen: u64,
    /// The most holders inside at once (must never pass the permits).
    pub most_at_once: usize,
}

/// Runs `workers` threads that each do `tasks` tasks, each holding one of `permits` permits for
/// [`HOLD`], and reports how many holders it saw and how many at most at once.
///
/// With more threads than permits the throughput stays under `permits / HOLD` however many
/// threads there are: that is the semaphore working.
pub fn run(workers: usize, tasks: u64, permits: usize) -> Result<Admitted, WorkerPanicked> {
    let semaphore = Semaphore::new(permits);
    let in_flight = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    let seen = AtomicU64::new(0);
    let start = Barrier::new(workers);
    thread::scope(|s| {
        let handles = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    for _ in 0..tasks {
                        let permit = semaphore.acquire();
                        // Relaxed: read-modify-writes of one atomic are totally ordered whatever
                        // the ordering, and the semaphore's mutex (unlocked by a releasing holder,
                        // locked by the next) already puts each holder's `fetch_sub` before the
                        // next holder's `fetch_add`, so the count never runs ahead of the permits.
                        let now = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
                        most.fetch_max(now, Ordering::Relaxed);
                        seen.fetch_add(1, Ordering::Relaxed);
                        thread::sleep(HOLD);
                        in_flight.fetch_sub(1, Ordering::Relaxed);
                        drop(permit);
                    }
                })
            })
            .collect();
        join_all("semaphore", handles)
    })?;
    Ok(Admitted {
        holders_seen: seen.load(Ordering::Relaxed),
        most_at_once: most.load(Ordering::Relaxed),
    })
}
// ANCHOR_END: pattern

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn never_more_than_the_permits_and_every_task_runs() {
        let admitted = run(6, 20, 2).unwrap();
        assert_eq!(admitted.holders_seen, 120);
        assert!((1..=2).contains(&admitted.most_at_once), "{admitted:?}");
    }

    #[test]
    fn one_permit_is_a_lock() {
        assert_eq!(run(3, 10, 1).unwrap().most_at_once, 1);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use loom::sync::Arc;

    use super::*;

    /// Three threads, two permits: in every interleaving at most two hold one at once, and no
    /// thread waits forever (loom reports a deadlock if every thread is asleep).
    #[test]
    fn loom_semaphore_never_exceeds_its_permits() {
        let mut builder = loom::model::Builder::new();
        // Bounding preemptions keeps the search to seconds; bugs of this size show within 2.
        builder.preemption_bound = Some(2);
        builder.check(|| {
            let semaphore = Arc::new(Semaphore::new(2));
            let in_flight = Arc::new(AtomicUsize::new(0));
            let threads: Vec<_> = (0..3)
                .map(|_| {
                    let (semaphore, in_flight) = (Arc::clone(&semaphore), Arc::clone(&in_flight));
                    loom::thread::spawn(move || {
                        let permit = semaphore.acquire();
                        let now = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
                        assert!(now <= 2, "{now} holders of 2 permits");
                        in_flight.fetch_sub(1, Ordering::Relaxed);
                        drop(permit);
                    })
                })
                .collect();
            for t in threads {
                t.join().expect("no holder exceeded the permits");
            }
            assert_eq!(*semaphore.free.lock().unwrap(), 2);
        });
    }
}
