//! The lesson, one step a file, in reading order. Each step is the pattern whole: its threads
//! are spawned in its own body, and it returns what it computed. Timing lives in
//! [`crate::measure`], never here.
//!
//! 1. [`s1_hello`]: two threads started and joined.
//! 2. [`s2_named`]: named threads handing their results back through `join`.
//! 3. [`s3_job_trait`]: a `Job` trait in place of a `Thread` subclass.
//! 4. [`s4_scoped`]: threads borrowing the caller's data inside `thread::scope`.
//! 5. [`s5_control`]: a worker paused, resumed and asked to stop.
//! 6. [`s6_io_sequential`]: fetching pages one after another.
//! 7. [`s7_io_thread_per_request`]: one thread per page.
//! 8. [`s8_io_pool`]: a bounded pool of threads taking the next page.
//! 9. [`s9_idle_threads`]: threads that only wait, all alive at once: what a thread costs.

use std::ops::RangeInclusive;
use std::thread::{JoinHandle, ScopedJoinHandle};

pub mod s1_hello;
pub mod s2_named;
pub mod s3_job_trait;
pub mod s4_scoped;
pub mod s5_control;
pub mod s6_io_sequential;
pub mod s7_io_thread_per_request;
pub mod s8_io_pool;
pub mod s9_idle_threads;

// ANCHOR: join_all
/// What can go wrong in a step, other than a wrong result (which the row reports).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system refused a new thread (too many threads, no memory).
    ///
    /// The message leaves the OS error out: it is the `source`, which `{:#}` and every error
    /// reporter print after it, so naming it here too printed it twice.
    #[error("could not start thread {name}")]
    Spawn {
        /// The name the thread would have had.
        name: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A thread panicked; its panic message, joined back into the caller as an error.
    #[error("thread {name} panicked: {message}")]
    Panicked {
        /// The thread's name, or `unnamed`.
        name: String,
        /// The panic's message.
        message: String,
    },
    /// The local HTTP server could not start.
    #[error("could not start the HTTP server on 127.0.0.1: {0}")]
    Server(String),
}

/// Joins `handle` and turns a panic in the thread into an [`Error::Panicked`], so it is reported
/// instead of lost. (`join().unwrap()` would re-panic in the caller: acceptable in a test,
/// not in a program that should say which thread failed and carry on to exit cleanly.)
pub fn join<T>(handle: JoinHandle<T>) -> Result<T, Error> {
    let name = handle.thread().name().unwrap_or("unnamed").to_string();
    handle.join().map_err(|payload| Error::Panicked {
        name,
        message: reaper::panic_message(payload.as_ref()),
    })
}

/// Joins every handle, in order, and returns their results, or the first panic as an error.
///
/// Every handle is joined even after a panic, which `handles.into_iter().map(join).collect()`
/// would not do: collecting into a `Result` stops at the first error and drops the handles left,
/// so their threads run on unwatched and their panics are lost.
pub fn join_all<T>(handles: Vec<JoinHandle<T>>) -> Result<Vec<T>, Error> {
    first_error(handles.into_iter().map(join))
}

/// Runs `results` to the end (joining every thread behind it), then returns every value or the
/// first error.
fn first_error<T>(results: impl Iterator<Item = Result<T, Error>>) -> Result<Vec<T>, Error> {
    let mut values = Vec::new();
    let mut first = None;
    for result in results {
        match result {
            Ok(value) => values.push(value),
            Err(err) => {
                first.get_or_insert(err);
            }
        }
    }
    first.map_or(Ok(values), Err)
}
// ANCHOR_END: join_all

// ANCHOR: split
/// Splits `1..=n` into `parts` contiguous ranges of nearly equal length (some empty when
/// `n < parts`): one share of the sum for each thread of steps 2 and 3.
pub fn split(n: u64, parts: usize) -> Vec<RangeInclusive<u64>> {
    let parts = parts.max(1) as u64;
    (0..parts)
        .map(|i| (n * i / parts + 1)..=(n * (i + 1) / parts))
        .collect()
}
// ANCHOR_END: split

// ANCHOR: join_all_scoped
/// [`join`] for a thread spawned inside [`std::thread::scope`].
pub fn join_scoped<T>(handle: ScopedJoinHandle<'_, T>) -> Result<T, Error> {
    let name = handle.thread().name().unwrap_or("unnamed").to_string();
    handle.join().map_err(|payload| Error::Panicked {
        name,
        message: reaper::panic_message(payload.as_ref()),
    })
}

/// [`join_all`] for threads spawned inside [`std::thread::scope`]. Here stopping at the first
/// panic is worse than a lost panic: the scope joins the handles left itself when it ends, and
/// panics in the caller if any of them panicked, so a second panic would still end the program.
pub fn join_all_scoped<T>(handles: Vec<ScopedJoinHandle<'_, T>>) -> Result<Vec<T>, Error> {
    first_error(handles.into_iter().map(join_scoped))
}
// ANCHOR_END: join_all_scoped

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_every_number_once() {
        for (n, parts) in [(10, 3), (2, 5), (1_000_001, 7)] {
            let ranges = split(n, parts);
            assert_eq!(ranges.len(), parts);
            let covered: u64 = ranges.iter().map(|r| r.clone().count() as u64).sum();
            assert_eq!(covered, n);
            assert_eq!(
                ranges.iter().map(|r| r.clone().sum::<u64>()).sum::<u64>(),
                n * (n + 1) / 2
            );
        }
    }

    #[test]
    fn a_panic_becomes_an_error_naming_the_thread() {
        let handle = std::thread::Builder::new()
            .name("doomed".into())
            .spawn(|| panic!("on purpose"))
            .unwrap();
        match join(handle) {
            Err(Error::Panicked { name, message }) => {
                assert_eq!(name, "doomed");
                assert_eq!(message, "on purpose");
            }
            other => panic!("want Panicked, got {other:?}"),
        }
    }

    #[test]
    fn every_thread_is_joined_and_the_first_panic_kept() {
        let result = std::thread::scope(|s| {
            let spawn = |name: &'static str, fail: bool| {
                let work = move || assert!(!fail, "{name} on purpose");
                let builder = std::thread::Builder::new().name(name.into());
                builder.spawn_scoped(s, work).unwrap()
            };
            let handles = vec![
                spawn("one", true),
                spawn("two", false),
                spawn("three", true),
            ];
            join_all_scoped(handles)
        });
        match result {
            Err(Error::Panicked { name, message }) => {
                assert_eq!((name.as_str(), message.as_str()), ("one", "one on purpose"));
            }
            other => panic!("want the first panic, got {other:?}"),
        }

        let handles = ["a", "b"].map(|name| {
            let builder = std::thread::Builder::new().name(name.into());
            builder
                .spawn(move || -> u8 { panic!("{name} failed") })
                .unwrap()
        });
        match join_all(handles.into()) {
            Err(Error::Panicked { name, .. }) => assert_eq!(name, "a"),
            other => panic!("want the first panic, got {other:?}"),
        }
    }
}
