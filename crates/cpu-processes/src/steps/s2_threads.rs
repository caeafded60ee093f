//! Step 2: one OS thread per task, all in this process: the row Python's threads cannot match.
//!
//! Since step 1: the calls run on `workers` threads at once. In CPython only the thread holding
//! the GIL runs Python code, so the tutorial's two threads take as long as one; Rust has no
//! interpreter lock, and the kernel runs each thread on a core of its own. The threads share
//! the address space, so a result comes back as the thread's return value, through its
//! `JoinHandle`: nothing to copy, nothing to send.

// ANCHOR: pattern
use std::thread;

use super::{Error, cpu_intensive_task};

/// Runs `workers` tasks of size `n`, one per thread, and returns the sum of their sums.
///
/// Scoped threads (`thread::scope`) may borrow from this stack frame and are always joined.
/// Each handle is joined here, every one of them, so a panicking worker becomes an error
/// rather than a lost result: a scope re-raises the panic of any thread left unjoined.
pub fn run(n: u64, workers: usize) -> Result<u64, Error> {
    thread::scope(|scope| {
        let mut handles = Vec::with_capacity(workers);
        for index in 0..workers {
            let handle = thread::Builder::new()
                .name(format!("worker-{index}"))
                .spawn_scoped(scope, move || cpu_intensive_task(n))
                // The threads already started are joined by the scope on the way out.
                .map_err(Error::ThreadStart)?;
            handles.push(handle);
        }
        let mut total = 0_u64;
        let mut first_panic = None;
        for (index, handle) in handles.into_iter().enumerate() {
            match handle.join() {
                Ok(sum) => total = total.wrapping_add(sum),
                Err(payload) => {
                    first_panic.get_or_insert(Error::ThreadPanicked {
                        index,
                        message: reaper::panic_message(payload.as_ref()),
                    });
                }
            }
        }
        first_panic.map_or(Ok(total), Err)
    })
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_thread_sums_its_task() {
        assert_eq!(run(10_000, 3).unwrap(), 3 * 49_995_000);
    }
}
