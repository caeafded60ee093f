//! Threads: start them, name them, get their results back, pause and stop them, and use them to
//! wait for many slow network replies at once.
//!
//! **The Python original.** The `threading` tutorial starts two threads, one printing numbers and
//! one printing letters, with `threading.Thread(target=...)`, `start()` and `join()`; subclasses
//! `Thread` and overrides `run()`; talks about pausing, resuming and terminating a thread; and
//! fetches a list of URLs one after another and then on threads, to show that threads help when
//! the work is waiting on I/O. In Rust the same programs differ in three ways worth seeing:
//! - a thread hands its result back through [`JoinHandle::join`](std::thread::JoinHandle::join)
//!   (no shared list to append to), and a panic in it comes back as an error instead of a
//!   traceback printed on stderr and forgotten;
//! - [`std::thread::scope`] lets threads borrow the caller's local data, checked at compile time,
//!   so no `Arc` and no copy;
//! - a thread cannot be killed from outside (there is no `Thread.terminate()` in Python either,
//!   and for the same reason: a thread killed while it holds a lock leaves that lock held and its
//!   data half-written). It is *asked* to stop, with a flag it checks ([`control()`]).
//!
//! **What to watch for in the output.** Every row checks its own result: the sums against the
//! closed form `n(n+1)/2`, the fetched bytes against what the server sends, the paused worker
//! against zero work. The verdict lines under the table give the speedup of one thread per
//! request and of a bounded pool over fetching one URL after another, beside the ideal (the
//! number of requests in flight at once): Rust threads waiting on a socket cost no CPU, so with
//! 20 requests held back 50 ms each, 20 threads come close to 20 times faster.
//!
//! **How to run it.**
//! ```text
//! cargo run --release -p threads-basic
//! cargo run --release -p threads-basic -- --variant io-sequential --variant io-pool --workers 8
//! cargo run --release -p threads-basic -- --json
//! python3 examples/python/threads_basic.py          # the Python programs, same flags
//! cargo run --example threads_basic                 # the core pattern in one file
//! ```
//!
//! The variants, one function each: [`hello`], [`named`], [`job_trait`], [`scoped`],
//! [`control()`], [`io_sequential`], [`io_thread_per_request`], [`io_pool`]. The cost of the
//! thing they all do, starting and joining a thread, is measured by `benches/spawn.rs`
//! (`cargo bench -p threads-basic --bench spawn`). In one run on the 2-vCPU machine this
//! project is measured on (busy with other builds, so read them as rough): `thread::spawn` +
//! `join` of a closure returning a number, median 16.4 µs; the same through a named `Builder`,
//! 16.5 µs; `thread::scope` with one thread, 15.3 µs, with two, 29.4 µs. Python's
//! `Thread(...).start(); join()` measured 71 µs on this kind of machine. So a thread costs
//! tens of microseconds: nothing beside a 50 ms network wait, a great deal beside a 1 µs task.

mod basics;
mod client;
pub mod control;
mod fetch;
pub mod job;
pub mod server;
mod verdict;

use std::any::Any;
use std::thread::{JoinHandle, ScopedJoinHandle};

pub use basics::{hello, named, scoped};
pub use control::control;
pub use fetch::{io_pool, io_sequential, io_thread_per_request};
pub use job::job_trait;
pub use verdict::speedup_verdicts;

/// The lesson name, as the binary and the JSON rows spell it.
pub const LESSON: &str = "threads-basic";

/// What can go wrong in a variant, other than a wrong result (which the row reports).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system refused a new thread (too many threads, no memory).
    #[error("could not start thread {name}: {source}")]
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
        /// The panic payload when it was a string.
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
    handle.join().map_err(|payload| panicked(name, &*payload))
}

/// [`join`] for a thread spawned inside [`std::thread::scope`].
pub fn join_scoped<T>(handle: ScopedJoinHandle<'_, T>) -> Result<T, Error> {
    let name = handle.thread().name().unwrap_or("unnamed").to_string();
    handle.join().map_err(|payload| panicked(name, &*payload))
}

/// A panic payload is a `Box<dyn Any>`: a `&str` for `panic!("literal")`, a `String` for a
/// formatted message, anything at all for `panic_any`.
fn panicked(name: String, payload: &(dyn Any + Send)) -> Error {
    let message = reaper::panic_message(payload);
    Error::Panicked { name, message }
}

/// `1 + 2 + ... + n` in closed form: the number every summing variant is checked against,
/// computed without running any of them.
pub fn sum_to(n: u64) -> u64 {
    // n(n+1)/2 with the division done first on whichever factor is even, so it cannot overflow
    // for any n the CLI accepts.
    if n.is_multiple_of(2) {
        (n / 2) * (n + 1)
    } else {
        n * n.div_ceil(2)
    }
}

/// Splits `1..=n` into `parts` contiguous ranges of nearly equal length (some empty when
/// `n < parts`).
pub fn split(n: u64, parts: usize) -> Vec<std::ops::RangeInclusive<u64>> {
    let parts = parts.max(1) as u64;
    (0..parts)
        .map(|i| (n * i / parts + 1)..=(n * (i + 1) / parts))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_matches_a_loop() {
        for n in [1, 2, 3, 10, 1001] {
            assert_eq!(sum_to(n), (1..=n).sum::<u64>(), "n = {n}");
        }
    }

    #[test]
    fn split_covers_every_number_once() {
        for (n, parts) in [(10, 3), (2, 5), (1_000_001, 7)] {
            let ranges = split(n, parts);
            assert_eq!(ranges.len(), parts);
            let covered: u64 = ranges.iter().map(|r| r.clone().count() as u64).sum();
            assert_eq!(covered, n);
            assert_eq!(
                ranges.iter().map(|r| r.clone().sum::<u64>()).sum::<u64>(),
                sum_to(n)
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
}
