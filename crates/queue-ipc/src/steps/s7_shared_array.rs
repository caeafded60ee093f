//! Step 7: the shared `Array`: a child fills an array of 64-bit words in shared memory, and the
//! parent reads it where it lies.
//!
//! Since step 6: many words, each written by one child and read by the parent once the child has
//! exited, so no lock or atomic add is needed. They are still `AtomicU64`s, used `Relaxed`, so
//! the compiler knows another process writes them; that costs nothing (see [`crate::shm`]). The
//! child writes `a[i] = i`; the parent checks every element and compares their sum with the
//! closed form `n (n - 1) / 2`.

// ANCHOR: pattern
use std::io::{self, BufReader};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Error;
use crate::process::{ChildGuard, READY, WORKER_FLAG, Worker, read_ready};
use crate::shm::Segment;

/// What the parent found in the array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The wrapping sum of every element.
    pub sum: u64,
    /// Elements with `a[i] != i`.
    pub wrong: u64,
    /// How the child ended, when it did not end well.
    pub failure: Option<String>,
}

/// Creates a segment of `elements` words, starts a child on it (its stdin) to fill it, and
/// waits until the child has attached (or died), so the clock can start.
pub fn start(worker: &Worker, elements: u64) -> Result<(Segment, ChildGuard), Error> {
    let segment = Segment::create("queue-ipc-array", bytes(elements)?)?;
    let mut command = Command::new(worker.path());
    command.args([WORKER_FLAG, "shm-array", "--count", &elements.to_string()]);
    let mut child = ChildGuard::spawn_with_stdin(&mut command, segment.for_child()?)?;
    read_ready(&mut BufReader::new(child.take_stdout()?))?;
    Ok((segment, child))
}

/// The whole step: a child fills `elements` words, and once it has exited the parent checks
/// each (the kernel orders the child's writes before its exit is reported: `Relaxed` is enough).
pub fn run(worker: &Worker, elements: u64) -> Result<Checked, Error> {
    let (segment, mut child) = start(worker, elements)?;
    let failure = child.failure()?;
    let (sum, wrong) = sum_and_mismatches(segment.words());
    Ok(Checked {
        sum,
        wrong,
        failure,
    })
}

/// The wrapping sum of the array and the number of elements `a[i] != i`, in one pass.
pub fn sum_and_mismatches(words: &[AtomicU64]) -> (u64, u64) {
    let (mut sum, mut wrong) = (0u64, 0u64);
    for (i, word) in words.iter().enumerate() {
        let value = word.load(Ordering::Relaxed);
        sum = sum.wrapping_add(value);
        wrong += u64::from(value != i as u64);
    }
    (sum, wrong)
}

/// `0 + 1 + ... + (elements - 1)`, in u128 so the product cannot overflow, then reduced mod
/// 2^64 like the wrapping sum.
pub fn expected_sum(elements: u64) -> u64 {
    let n = u128::from(elements);
    (n * n.saturating_sub(1) / 2) as u64
}

fn bytes(elements: u64) -> io::Result<usize> {
    let len = elements
        .checked_mul(8)
        .and_then(|len| usize::try_from(len).ok());
    len.ok_or_else(|| io::Error::other(format!("{elements} words do not fit in memory")))
}

/// The child's side: attach to the segment on stdin, say ready, fill `a[i] = i`.
pub fn child(elements: u64) -> Result<(), Error> {
    let segment = Segment::inherited(bytes(elements)?)?;
    println!("{READY}");
    for (i, word) in segment.words().iter().enumerate() {
        // Relaxed: the parent reads only after this process has exited (see `run`).
        word.store(i as u64, Ordering::Relaxed);
    }
    Ok(())
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_correct_array_sums_to_the_closed_form_and_a_wrong_element_is_counted() {
        let words: Vec<AtomicU64> = (0..1000).map(AtomicU64::new).collect();
        assert_eq!(sum_and_mismatches(&words), (expected_sum(1000), 0));
        words[10].store(0, Ordering::Relaxed);
        assert_eq!(sum_and_mismatches(&words), (expected_sum(1000) - 10, 1));
    }
}
