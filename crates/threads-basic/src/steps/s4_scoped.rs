//! Step 4: threads borrowing the caller's local data, which Python never has to think about.
//!
//! Since step 3: with `thread::spawn` the closure must be `'static` (the thread could outlive
//! the data), so sharing a `Vec` would take an `Arc` and the results a `Mutex` or a return
//! value. [`thread::scope`] joins every thread before it returns, so the compiler accepts plain
//! `&` and `&mut` borrows, and the borrow checker still forbids two threads writing one slot.

// ANCHOR: pattern
use std::thread;

use super::{Error, join_all_scoped};

/// Sums `numbers` on `workers` threads spawned in a scope: each borrows a slice of `numbers` and
/// writes its partial sum into its own borrowed slot of a local array, returned afterwards.
/// `workers = 0` counts as one, as [`split`](super::split) counts it: no thread at all would
/// leave every number unsummed.
pub fn partial_sums(numbers: &[u64], workers: usize) -> Result<Vec<u64>, Error> {
    let workers = workers.max(1); // also keeps `div_ceil` below from dividing by zero
    let mut partials = vec![0_u64; workers];
    let chunk_len = numbers.len().div_ceil(workers).max(1);
    thread::scope(|s| -> Result<(), Error> {
        let mut handles = Vec::with_capacity(workers);
        for (chunk, slot) in numbers.chunks(chunk_len).zip(partials.iter_mut()) {
            // `chunk: &[u64]` and `slot: &mut u64` are borrows of the caller's and this
            // function's locals: no `Arc`, no copy, no lock.
            handles.push(s.spawn(move || *slot = chunk.iter().sum()));
        }
        // Joined here, every one of them, instead of letting the scope join them: a thread the
        // scope joins itself re-raises its panic when the scope ends, and so would any thread
        // left unjoined after a first panic. `join_all_scoped` joins them all, then returns the
        // first panic as an error.
        join_all_scoped(handles)?;
        Ok(())
    })?;
    Ok(partials)
}

/// The numbers `1..=n` in a local `Vec`, summed by [`partial_sums`] on `workers` threads.
pub fn run(n: u64, workers: usize) -> Result<u64, Error> {
    let numbers: Vec<u64> = (1..=n).collect();
    Ok(partial_sums(&numbers, workers)?.iter().sum())
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_exactly_with_more_workers_than_numbers() {
        for (n, workers) in [(1, 4), (1000, 3), (100_000, 2)] {
            assert_eq!(run(n, workers).unwrap(), n * (n + 1) / 2);
        }
        assert_eq!(partial_sums(&[1, 2, 3], 2).unwrap(), [3, 3]);
    }

    #[test]
    fn zero_workers_count_as_one() {
        assert_eq!(partial_sums(&[1, 2, 3], 0).unwrap(), [6]);
        assert_eq!(run(10, 0).unwrap(), 55);
    }

    // A sum past `u64::MAX` panics only where overflow checks are on, as in debug and test
    // builds; in release it wraps and no thread panics.
    #[cfg(debug_assertions)]
    #[test]
    fn two_threads_panicking_come_back_as_one_error() {
        let numbers = [u64::MAX, 1, 2, u64::MAX, 1, 2];
        match partial_sums(&numbers, 2) {
            Err(Error::Panicked { message, .. }) => assert!(message.contains("overflow")),
            other => panic!("want Panicked, got {other:?}"),
        }
    }
}
