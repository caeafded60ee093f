//! Pause, resume and stop a worker thread: what the tutorial calls controlling a thread.
//!
//! Rust has no way to kill a thread, and that is a feature: a thread stopped at an arbitrary
//! instruction could hold a lock forever or leave a data structure half-updated, and every other
//! thread would then see it. (Python has no `Thread.kill()` for the same reason; the tutorial's
//! answer is also a flag.) So the worker is *asked*: it checks a stop flag between units of work
//! and returns by itself, and while a pause flag is set it sleeps in [`thread::park`] without
//! using a core until it is unparked.
//!
//! Why `park`/`unpark` and not a `Mutex<State>` + `Condvar`: the worker reads the flags once per
//! unit of work, and an atomic load is a plain memory read, where a mutex would be taken and
//! released millions of times a second. `park` is the cheapest way to sleep until told: a
//! `Condvar` needs a mutex around the condition, `park` only needs the `Thread` handle.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use timing::{Row, Stopwatch, fmt_count, fmt_duration};

use crate::{Error, LESSON, join};

/// How long the main thread keeps the worker paused while it watches for work done.
pub const PAUSE: Duration = Duration::from_millis(20);

/// How long the main thread waits for the worker to react to a flag before calling it a failure
/// (far longer than it ever takes; it only keeps a broken worker from hanging the program).
const PATIENCE: Duration = Duration::from_secs(2);

/// The flags the main thread sets and the worker reads, and the worker's progress.
#[derive(Debug, Default)]
pub struct Flags {
    /// Set by the main thread to ask the worker to pause; cleared to resume.
    pub paused: AtomicBool,
    /// Set by the main thread to ask the worker to return.
    pub stop: AtomicBool,
    /// Set by the worker while it is parked because of `paused`: the main thread's proof that the
    /// pause took effect, so it starts watching the counter only from then on.
    pub parked: AtomicBool,
    /// Units of work done so far, published by the worker after each unit.
    pub done: AtomicU64,
}

/// The worker: does units of work until `stop`, parks while `paused`, returns its own count.
///
/// Orderings: every store here is `Release` and every load in the main thread `Acquire` (and the
/// other way round for the flags), so when one side sees a flag it also sees everything the
/// other side wrote before setting it. Nothing else is shared, so `SeqCst` would add nothing.
pub fn worker(flags: &Flags) -> u64 {
    let mut units = 0_u64;
    // Acquire pairs with the main thread's `stop.store(true, Release)`.
    while !flags.stop.load(Ordering::Acquire) {
        if flags.paused.load(Ordering::Acquire) {
            // Release pairs with the main thread's `parked.load(Acquire)`: it sees `done` as it
            // was when the worker stopped working.
            flags.parked.store(true, Ordering::Release);
            // A loop, because `park` may return spuriously; and no lost wake-up: an `unpark`
            // that comes before this `park` leaves a token that makes `park` return at once.
            while flags.paused.load(Ordering::Acquire) && !flags.stop.load(Ordering::Acquire) {
                thread::park();
            }
            flags.parked.store(false, Ordering::Release);
            continue;
        }
        black_box(unit_of_work(units));
        units += 1;
        // Release pairs with the main thread's `done.load(Acquire)`.
        flags.done.store(units, Ordering::Release);
    }
    units
}

/// A few hundred nanoseconds of arithmetic the optimiser cannot skip (`black_box` at the call).
fn unit_of_work(seed: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..200 {
        // xorshift64: cheap, and every step depends on the one before.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// Spins politely until `condition` holds or [`PATIENCE`] runs out; says which.
fn wait_for(condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(Duration::from_micros(50));
    }
    true
}

/// Pause, resume, stop: the main thread runs the worker, pauses it for [`PAUSE`], resumes it,
/// then stops it. Correct means no unit of work was done while paused, work went on after the
/// resume, and the worker returned by itself after the stop, with the count it had published.
pub fn control() -> Result<Row, Error> {
    let flags = Arc::new(Flags::default());
    let watch = Stopwatch::start();
    let worker_flags = Arc::clone(&flags);
    let name = "controlled".to_string();
    let handle = thread::Builder::new()
        .name(name.clone())
        .spawn(move || worker(&worker_flags))
        .map_err(|source| Error::Spawn { name, source })?;
    let done = || flags.done.load(Ordering::Acquire);

    let started = wait_for(|| done() > 0);
    flags.paused.store(true, Ordering::Release);
    let parked = wait_for(|| flags.parked.load(Ordering::Acquire));
    let at_pause = done();
    thread::sleep(PAUSE);
    let while_paused = done() - at_pause;

    flags.paused.store(false, Ordering::Release);
    handle.thread().unpark();
    let resumed = wait_for(|| done() > at_pause + while_paused);

    let stop_watch = Stopwatch::start();
    flags.stop.store(true, Ordering::Release);
    handle.thread().unpark(); // in case it is parked: it must see the flag to return
    // `is_finished` instead of `join`, so a worker that never returns cannot hang the program.
    let ended = wait_for(|| handle.is_finished());
    // An upper bound: `wait_for` looks every 50 µs.
    let stop_took = stop_watch.elapsed();
    // A worker that ignored the flag is left running rather than joined (joining would hang);
    // the process ends it on exit, and the row says it failed.
    let units = if ended { join(handle)? } else { 0 };
    let wall = watch.elapsed();

    Ok(Row::new(LESSON, "control")
        .items(units)
        .check(0, while_paused)
        .require(started && parked && resumed && ended && units == done())
        .wall(wall)
        .note(format!(
            "{} units while paused {}; ended {} after stop",
            fmt_count(while_paused),
            fmt_duration(PAUSE),
            fmt_duration(stop_took)
        ))
        .extra("paused_ms", PAUSE.as_millis() as u64)
        .extra("units_while_paused", while_paused)
        .extra("stop_ns", stop_took.as_nanos() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_resume_stop_is_correct() {
        let row = control().unwrap();
        assert!(row.correct, "{row:?}");
        assert!(row.items > 0);
    }

    #[test]
    fn a_worker_stopped_before_it_starts_does_nothing() {
        let flags = Flags::default();
        flags.stop.store(true, Ordering::Release);
        assert_eq!(worker(&flags), 0);
    }
}
