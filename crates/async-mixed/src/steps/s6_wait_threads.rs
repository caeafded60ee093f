//! Step 6: the same waits as OS threads, each blocked in `thread::sleep`, joined: what the
//! tutorial does with `threading.Thread` and `time.sleep`.
//!
//! Since step 5: each wait holds a whole thread (a stack, a kernel task, a process id) instead
//! of a small future, so the machine's thread limits cap how many there can be, and a spawn can
//! fail: the step then stops, lets the started threads finish, and says how far it got.

// ANCHOR: pattern
use std::io;
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::Duration;

use super::s5_wait_tasks::{Waited, Waiting};

/// The stack each waiting thread asks for: 64 KiB instead of std's 2 MiB default.
///
/// A stack is address space reserved whole at the spawn, and memory only where it is touched,
/// so a small one saves no resident memory by itself; it keeps a hundred thousand reservations
/// to a few GiB instead of hundreds, under any overcommit limit. It is safe here because the
/// thread's deepest call is a `nanosleep` a few frames down, and std raises a size below the
/// platform's minimum (the C library's `PTHREAD_STACK_MIN` plus thread-local storage) to it. A
/// thread that recursed, formatted much or parsed a backtrace would need more: too small a stack
/// aborts the whole process ("thread has overflowed its stack"), it does not return an error.
pub const STACK: usize = 64 * 1024;

/// Why the waits could not all run.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// The kernel refused a thread (a limit on threads, process ids or memory maps was reached).
    // The spawn's error is the source, not part of this message: a report that prints the
    // chain (as `{:#}` does) would say it twice.
    #[error("spawning thread {} of {wanted} failed; the {started} started were joined", .started + 1)]
    Spawn {
        /// Threads started (and joined) before the failure.
        started: usize,
        /// Threads asked for.
        wanted: usize,
        /// The spawn's error.
        source: io::Error,
    },
    /// A waiting thread panicked.
    #[error("a waiting thread panicked: {0}")]
    Panicked(String),
}

/// Starts `waits` threads that each sleep for `delay`, all from the same moment, and joins them.
///
/// The start line is a lock held for writing while the threads are spawned: each thread counts
/// itself in, then takes it for reading, which blocks until it is released, and then every
/// thread passes at once (readers share it). Passing takes the kernel a while for thousands of
/// threads, so a wait counts from the start line, not from the sleep. Not a `std::sync::Barrier`: that needs its count
/// up front, and after a failed spawn the started threads would wait forever for the others.
pub fn run(waits: usize, delay: Duration) -> Result<Waited, WaitError> {
    let waiting = Arc::new(Waiting::default());
    let start_line = Arc::new(RwLock::new(()));
    // A lock just made cannot be poisoned: nobody has held it to panic with it.
    let closed = start_line.write().expect("a new lock is not poisoned");
    let mut handles = Vec::with_capacity(waits);
    let mut failed = None;
    for _ in 0..waits {
        let (waiting, start_line) = (Arc::clone(&waiting), Arc::clone(&start_line));
        let spawned = thread::Builder::new().stack_size(STACK).spawn(move || {
            waiting.enter();
            // The guard is dropped at once: the lock is a start line, not a shared value. Only
            // a panic while it was held (there is none) could poison it, which is no reason not
            // to start.
            drop(start_line.read());
            thread::sleep(delay);
            waiting.leave();
        });
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(source) => {
                failed = Some(source);
                break;
            }
        }
    }
    // Open the start line only once every started thread is at it, so none begins its sleep
    // while another is still starting (none has left yet, so those under way are those at the
    // line). Polled: the wait is as short as the threads' start-up, and the count is all it
    // reads, so no ordering beyond the counter's own is needed.
    while waiting.now() < handles.len() as u64 {
        thread::sleep(Duration::from_millis(1));
    }
    drop(closed);
    let started = handles.len();
    // Every thread is joined, even after a panic, so none outlives the step.
    let panics: Vec<String> = handles
        .into_iter()
        .filter_map(|handle| handle.join().err())
        .map(|payload| reaper::panic_message(payload.as_ref()))
        .collect();
    if let Some(message) = panics.into_iter().next() {
        return Err(WaitError::Panicked(message));
    }
    match failed {
        Some(source) => Err(WaitError::Spawn {
            started,
            wanted: waits,
            source,
        }),
        None => Ok(Waited {
            started: started as u64,
            most_at_once: waiting.most(),
        }),
    }
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_thread_is_waiting_at_once() {
        let waited = run(100, Duration::from_millis(20)).unwrap();
        assert_eq!(
            waited,
            Waited {
                started: 100,
                most_at_once: 100
            }
        );
    }

    #[test]
    fn a_failed_spawn_says_how_far_it_got() {
        let err = WaitError::Spawn {
            started: 3,
            wanted: 10,
            source: io::Error::from(io::ErrorKind::WouldBlock),
        };
        let text = err.to_string();
        assert!(text.starts_with("spawning thread 4 of 10 failed"), "{text}");
        assert!(text.ends_with("the 3 started were joined"), "{text}");
    }
}
