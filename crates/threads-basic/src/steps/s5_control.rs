//! Step 5: a worker paused, resumed and asked to stop: a thread is never killed, only asked.
//!
//! Since step 4: the main thread steers a running thread instead of only waiting for it, through
//! atomics the worker reads between units of work, and [`thread::park`] and `unpark` to let it
//! sleep without using a core and wake it again. Rust cannot kill a thread, and that is a
//! feature: one stopped anywhere could hold a lock forever or leave data half-updated.
//!
//! Atomics and `park`, not a `Mutex<State>` + `Condvar`: the worker reads its orders once per
//! unit, a plain read from an atomic where a mutex would be locked; `park` needs no mutex.

// ANCHOR: pattern
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use super::{Error, join};

/// The worker's job: this many units of work, the same in the Python twin.
pub const UNITS: u64 = 1_000;

/// Where the worker pauses: after half its job.
pub const PAUSE_AT: u64 = UNITS / 2;

/// How long the main thread keeps the worker paused while it watches for work done.
pub const PAUSE: Duration = Duration::from_millis(20);

/// How long to wait for the worker to react before calling it broken (rather than hanging).
const PATIENCE: Duration = Duration::from_secs(2);

/// What the main thread and the worker share; by default, no allowance yet.
#[derive(Debug, Default)]
pub struct Shared {
    /// How many units the worker may have done before it waits: `0` pauses it at once. Rather
    /// than a `paused: bool`, as it can also say "run on to unit n, then wait".
    pub allowed: AtomicU64,
    /// Set by the main thread to ask the worker to return.
    pub stop: AtomicBool,
    /// Set by the worker while it waits, parked: proof that a pause took effect. Cleared by
    /// [`resume`] before it wakes the worker, and by the worker once it runs again.
    pub parked: AtomicBool,
    /// Units of work done so far, published by the worker after each unit.
    pub done: AtomicU64,
}

/// The worker: does units of work while its allowance lasts, parks when it has none left, and
/// returns its own count once asked to stop.
///
/// Orderings: each store is `Release` and each load of it on the other side `Acquire`, so a side
/// that sees a change also sees all the other wrote before it; `SeqCst` would add nothing here.
pub fn worker(shared: &Shared) -> u64 {
    let mut units = 0_u64;
    let out_of_allowance = |units| units >= shared.allowed.load(Ordering::Acquire);
    while !shared.stop.load(Ordering::Acquire) {
        if out_of_allowance(units) {
            shared.parked.store(true, Ordering::Release);
            // A loop, because `park` may return spuriously; and no lost wake-up: an `unpark`
            // that comes before this `park` leaves a token that makes `park` return at once.
            while out_of_allowance(units) && !shared.stop.load(Ordering::Acquire) {
                thread::park();
            }
            shared.parked.store(false, Ordering::Release);
            continue;
        }
        black_box(unit_of_work(units));
        units += 1;
        shared.done.store(units, Ordering::Release);
    }
    units
}

/// Resumes a paused worker (one seen `parked`) until it has done `to` units in all. `parked` is
/// cleared before the wake-up, not only by the worker once it runs: until the woken thread is
/// scheduled, the flag would still tell of the pause just ended, and a pause asked for right
/// after this resume would read as taken at once.
pub fn resume(shared: &Shared, worker: &Thread, to: u64) {
    shared.parked.store(false, Ordering::Release);
    shared.allowed.store(to, Ordering::Release);
    worker.unpark(); // a parked worker sees nothing until it is woken
}

/// A unit of work: arithmetic the optimiser cannot skip (`black_box` at the call). The Python
/// twin's unit is the same 200 rounds.
pub fn unit_of_work(seed: u64) -> u64 {
    let mut x = seed | 1;
    // xorshift64: cheap, and every step depends on the one before.
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// What the main thread saw while it steered the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Controlled {
    /// The worker parked at its first allowance.
    pub parked: bool,
    /// Units done when it parked: [`PAUSE_AT`], if it honours its allowance.
    pub paused_at: u64,
    /// Units done during the [`PAUSE`]: none, if pausing works.
    pub while_paused: u64,
    /// After the resume, the worker reached the end of its job.
    pub finished: bool,
    /// The count the worker returned after the stop; `None` if it never returned.
    pub returned: Option<u64>,
    /// The last count it published through `done`.
    pub published: u64,
    /// From the stop request to seeing the worker finished (looked for every 50 µs).
    pub stop_took: Duration,
}

/// Pause, resume, stop: starts the worker with an allowance of half its job, watches it wait
/// there doing nothing for [`PAUSE`], resumes it to the end of its job, then stops it.
///
/// The pause is named ahead (`allowed = PAUSE_AT`) rather than made at a moment (`allowed = 0`):
/// a worker this fast would often finish before the main thread paused it.
pub fn run() -> Result<Controlled, Error> {
    let shared = Arc::new(Shared::default());
    shared.allowed.store(PAUSE_AT, Ordering::Relaxed); // the spawn publishes it
    let theirs = Arc::clone(&shared);
    let name = "controlled".to_string();
    let handle = thread::Builder::new()
        .name(name.clone())
        .spawn(move || worker(&theirs))
        .map_err(|source| Error::Spawn { name, source })?;
    let done = || shared.done.load(Ordering::Acquire);

    let parked = wait_for(|| shared.parked.load(Ordering::Acquire));
    let paused_at = done();
    thread::sleep(PAUSE);
    let while_paused = done() - paused_at;

    resume(&shared, handle.thread(), UNITS); // to the end of the job
    let finished = wait_for(|| done() >= UNITS);

    let asked = Instant::now();
    shared.stop.store(true, Ordering::Release);
    handle.thread().unpark(); // it waits, parked, at the end of its job: it must see the flag
    let ended = wait_for(|| handle.is_finished()); // not `join`: a bug must not hang us
    let stop_took = asked.elapsed();
    // A worker that ignored the flag is left running rather than joined (joining would hang);
    // the process ends it on exit, and `returned` says it failed.
    let returned = if ended { Some(join(handle)?) } else { None };
    Ok(Controlled {
        parked,
        paused_at,
        while_paused,
        finished,
        returned,
        published: done(),
        stop_took,
    })
}

/// Sleeps in short steps until `condition` holds or [`PATIENCE`] runs out; says which.
fn wait_for(condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while !condition() && Instant::now() < deadline {
        thread::sleep(Duration::from_micros(50));
    }
    condition()
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_resume_stop_ends_on_the_last_unit_of_the_job() {
        let c = run().unwrap();
        assert!(c.parked && c.finished, "{c:?}");
        assert_eq!((c.paused_at, c.while_paused), (PAUSE_AT, 0), "{c:?}");
        assert_eq!(c.returned, Some(UNITS), "{c:?}");
        assert_eq!(c.published, UNITS, "{c:?}");
    }

    #[test]
    fn a_worker_waits_at_its_allowance_until_stopped() {
        let shared = Arc::new(Shared::default());
        shared.allowed.store(3, Ordering::Relaxed);
        let theirs = Arc::clone(&shared);
        let handle = thread::spawn(move || worker(&theirs));
        assert!(wait_for(|| shared.parked.load(Ordering::Acquire)));
        assert_eq!(shared.done.load(Ordering::Acquire), 3);
        shared.stop.store(true, Ordering::Release);
        handle.thread().unpark();
        assert_eq!(join(handle).unwrap(), 3);
    }

    #[test]
    fn an_allowance_of_zero_pauses_a_running_worker_at_once() {
        let shared = Arc::new(Shared::default());
        shared.allowed.store(u64::MAX, Ordering::Relaxed);
        let theirs = Arc::clone(&shared);
        let handle = thread::spawn(move || worker(&theirs));
        assert!(wait_for(|| shared.done.load(Ordering::Acquire) > 0));
        shared.allowed.store(0, Ordering::Release);
        assert!(wait_for(|| shared.parked.load(Ordering::Acquire)));
        let paused_at = shared.done.load(Ordering::Acquire);
        thread::sleep(Duration::from_millis(5));
        assert_eq!(shared.done.load(Ordering::Acquire), paused_at);
        shared.stop.store(true, Ordering::Release);
        handle.thread().unpark();
        assert_eq!(join(handle).unwrap(), paused_at);
    }

    #[test]
    fn each_pause_after_a_resume_is_seen_only_once_the_worker_reaches_it() {
        const STRIDE: u64 = 3;
        const PAUSES: u64 = 100;
        let shared = Arc::new(Shared::default());
        shared.allowed.store(STRIDE, Ordering::Relaxed);
        let theirs = Arc::clone(&shared);
        let handle = thread::spawn(move || worker(&theirs));
        for pause in 1..=PAUSES {
            assert!(wait_for(|| shared.parked.load(Ordering::Acquire)));
            assert_eq!(shared.done.load(Ordering::Acquire), pause * STRIDE);
            resume(&shared, handle.thread(), (pause + 1) * STRIDE);
        }
        assert!(wait_for(|| shared.parked.load(Ordering::Acquire)));
        shared.stop.store(true, Ordering::Release);
        handle.thread().unpark();
        assert_eq!(join(handle).unwrap(), (PAUSES + 1) * STRIDE);
    }

    #[test]
    fn a_worker_stopped_before_it_starts_does_nothing() {
        let shared = Shared::default();
        shared.allowed.store(UNITS, Ordering::Relaxed);
        shared.stop.store(true, Ordering::Release);
        assert_eq!(worker(&shared), 0);
    }
}
