//! Step 1: the tasks one after another, on this thread: the baseline every speedup is measured
//! against.
//!
//! The tutorial's starting point: `workers` calls of `cpu_intensive_task(n)` in a loop. One
//! core does all the work, however many the machine has; the later steps hand the same calls
//! to threads and to processes and are timed against this one.

// ANCHOR: pattern
use super::cpu_intensive_task;

/// Runs `workers` tasks of size `n` one after another and returns the sum of their sums.
pub fn run(n: u64, workers: usize) -> u64 {
    (0..workers)
        .map(|_| cpu_intensive_task(n))
        .fold(0, u64::wrapping_add)
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_is_summed() {
        assert_eq!(run(10_000, 3), 3 * 49_995_000);
        assert_eq!(run(10_000, 0), 0);
    }
}
