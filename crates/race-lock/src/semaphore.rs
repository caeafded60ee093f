//! Step 5: `threading.Semaphore(k)`, built from a `Mutex` and a `Condvar`.

use std::thread;
use std::time::{Duration, Instant};

use timing::{Latencies, Row};

use crate::sync::{AtomicUsize, Condvar, Mutex, Ordering};
use crate::{LESSON, WorkerPanicked, merged, run_together};

/// How long each task holds its permit: a stand-in for the I/O a semaphore usually rations
/// (connections to one server, files open at once).
pub const HOLD: Duration = Duration::from_micros(100);

/// A counting semaphore: at most `permits` holders at once; others wait.
///
/// The standard library has none (an unstable `std::sync::Semaphore` was deprecated in Rust 1.7
/// and removed). `tokio::sync::Semaphore` is for async tasks, and the small crates that keep the
/// old std one are unmaintained; a `Mutex` around the free count and a `Condvar` to sleep on
/// are all it takes, and they are the pattern the [`condvar`](crate::condvar()) step uses again.
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

/// Runs `workers` threads that each do `tasks` tasks, each holding one of `permits` permits for
/// [`HOLD`], and measures how many held one at once and how long they waited for it.
///
/// `expected` is `workers * tasks` (every task ran); the row is correct only if the most
/// holders seen at once never passed `permits`. With more threads than permits the throughput
/// stays under `permits / HOLD` whatever the number of threads (below it by as much as
/// `thread::sleep` overshoots): that is the semaphore working.
pub fn semaphore(workers: usize, tasks: u64, permits: usize) -> Result<Row, WorkerPanicked> {
    let semaphore = Semaphore::new(permits);
    let in_flight = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    // All threads start together, so they queue for the permits at once (see `run_together`).
    let (joined, wall) = run_together("semaphore", workers, || {
        run_tasks(&semaphore, &in_flight, &most, tasks)
    });
    let done: Vec<(u64, Latencies)> = joined?;
    let ran: u64 = done.iter().map(|(n, _)| n).sum();
    let waits: Vec<_> = done.into_iter().map(|(_, w)| w).collect();
    let most = most.load(Ordering::Relaxed);
    let expected = workers as u64 * tasks;
    Ok(Row::new(LESSON, "semaphore")
        .workers(workers)
        .items(ran)
        .check(expected, ran)
        .require(most <= permits)
        .wall(wall)
        .latencies(&merged(&waits))
        .extra("permits", permits)
        .extra("max_in_flight", most)
        .note(format!("max {most} in flight, {permits} permits")))
}

/// One thread's share of [`semaphore`]: returns how many tasks it ran and its waits for a permit.
fn run_tasks(
    semaphore: &Semaphore,
    in_flight: &AtomicUsize,
    most: &AtomicUsize,
    tasks: u64,
) -> (u64, Latencies) {
    let mut waits = Latencies::new();
    let mut ran = 0;
    for _ in 0..tasks {
        // Every wait is timed here: a task takes 100 µs, so two clock reads are nothing.
        let start = Instant::now();
        let permit = semaphore.acquire();
        waits.record(start.elapsed());
        // Relaxed: read-modify-writes of one atomic are totally ordered whatever the ordering,
        // and the semaphore's mutex (unlocked by a releasing holder, locked by the next one)
        // already puts each holder's `fetch_sub` before the next holder's `fetch_add`. So the
        // count never runs ahead of the permits actually held.
        let now = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        most.fetch_max(now, Ordering::Relaxed);
        thread::sleep(HOLD);
        in_flight.fetch_sub(1, Ordering::Relaxed);
        drop(permit);
        ran += 1;
    }
    (ran, waits)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn never_more_than_the_permits_and_every_task_runs() {
        let row = semaphore(6, 20, 2).unwrap();
        assert_eq!((row.expected, row.result), (120, 120));
        let most = row.extra["max_in_flight"].as_u64().unwrap();
        assert!((1..=2).contains(&most), "{most}");
        assert!(row.correct);
    }

    #[test]
    fn one_permit_is_a_lock() {
        let row = semaphore(3, 10, 1).unwrap();
        assert_eq!(row.extra["max_in_flight"], 1);
        assert!(row.correct);
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
