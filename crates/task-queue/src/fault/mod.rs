//! Transient broker faults: which errors are worth waiting out, how long to wait between tries,
//! and how to say so without flooding stderr.
//!
//! A broker shared by many processes is sometimes briefly unavailable, and that is not a bug:
//! another process holds SQLite's write lock ("database is locked"), a Redis connection is
//! dropped (`CLIENT KILL`, a proxy's idle timeout), the server restarts. Celery's workers
//! reconnect on their own; an apalis 1.0 worker ends on the first such error. So every broker
//! call here (workers, producers, `status`) goes through one rule: a transient error is waited
//! out with a bounded backoff and reported once when it starts and once when it ends; any
//! other error is returned at once. Some of those are permanent ([`is_permanent`]: a damaged,
//! read-only or full SQLite file, a Redis over its `maxmemory`): waiting for them would spin
//! forever, so a worker that meets one says so once and ends.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::stop::Interrupted;

mod kinds;

pub use kinds::{is_permanent, is_transient, permanent_cause, transient_cause};

/// The first wait after a failure.
pub const FIRST_WAIT: Duration = Duration::from_millis(50);

/// The longest wait between two tries: long enough not to hammer a struggling broker, short
/// enough that work resumes within a couple of seconds of it coming back.
pub const LONGEST_WAIT: Duration = Duration::from_secs(2);

/// Waits that double from [`FIRST_WAIT`] up to [`LONGEST_WAIT`].
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { next: FIRST_WAIT }
    }
}

impl Backoff {
    /// The wait before the next try; each call doubles the one after, up to the bound.
    pub fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(LONGEST_WAIT);
        wait
    }
}

/// Says on stderr, once, that `what` is waiting for the broker, and once that it is back.
#[derive(Debug)]
pub struct Outage {
    what: String,
    since: Option<Instant>,
}

impl Outage {
    /// Nothing said yet about `what` (a worker's name, "submit", "the demo's producer").
    pub fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            since: None,
        }
    }

    /// Reports `error` unless this outage was already reported.
    pub fn begin(&mut self, error: &dyn std::fmt::Display) {
        if self.since.is_none() {
            eprintln!(
                "{}: the broker failed ({error}); waiting for it, retrying every {LONGEST_WAIT:?} at most",
                self.what
            );
            self.since = Some(Instant::now());
        }
    }

    /// Reports the end of the outage, if there was one.
    pub fn end(&mut self) {
        if let Some(since) = self.since.take() {
            eprintln!(
                "{}: the broker answers again after {:.1} s; going on",
                self.what,
                since.elapsed().as_secs_f64()
            );
        }
    }
}

/// An outage reporter shared by a worker and its supervisor, locked. A poisoned lock means a
/// thread panicked while printing a line; the reporter's state (when the outage began) is
/// still sound, so it is used as it is.
pub fn locked(outage: &std::sync::Mutex<Outage>) -> std::sync::MutexGuard<'_, Outage> {
    outage
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `op` until it succeeds or fails with an error that is not transient, waiting with
/// [`Backoff`] between tries; gives up when `stop` is set (Ctrl-C in the demo).
pub async fn patiently<T>(
    what: &str,
    stop: Option<&AtomicBool>,
    mut op: impl AsyncFnMut() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let mut backoff = Backoff::default();
    let mut outage = Outage::new(what);
    loop {
        match op().await {
            Ok(value) => {
                outage.end();
                return Ok(value);
            }
            Err(e) if is_transient(&e) => outage.begin(&format_args!("{e:#}")),
            Err(e) => return Err(e),
        }
        // Acquire pairs with the Release store of the demo's Ctrl-C handler.
        if stop.is_some_and(|s| s.load(Ordering::Acquire)) {
            let said = format!("{what}: interrupted while waiting for the broker");
            return Err(Interrupted(said).into());
        }
        tokio::time::sleep(backoff.next_wait()).await;
    }
}

/// `error` and its causes on one line, each cause once: apalis and the clients wrap an error
/// transparently, so `{:#}` would print the same words two or three times over.
pub fn describe(error: &anyhow::Error) -> String {
    let mut said = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if said.contains(&text) {
            continue;
        }
        if !said.is_empty() {
            said.push_str(": ");
        }
        said.push_str(&text);
    }
    said
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_bound() {
        let mut backoff = Backoff::default();
        let waits: Vec<_> = (0..8).map(|_| backoff.next_wait()).collect();
        assert_eq!(waits[0], FIRST_WAIT);
        assert_eq!(waits[1], FIRST_WAIT * 2);
        assert_eq!(waits[7], LONGEST_WAIT);
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn a_cause_repeated_by_its_wrappers_is_said_once() {
        let inner = std::io::Error::other("database or disk is full");
        let error = anyhow::Error::new(inner)
            .context("database or disk is full")
            .context("enqueueing jobs on SQLite");
        assert_eq!(
            describe(&error),
            "enqueueing jobs on SQLite: database or disk is full"
        );
    }
}
