//! The CPU-bound step every mixed task does, and the closed form that checks it.
//!
//! The step sums the squares of `work` consecutive integers starting at a seed the task got from
//! its I/O step. It is deliberately a plain loop: the point is to keep a core busy for a known
//! number of iterations, and the closed form lets every task's answer be checked without
//! running the loop a second time.

use std::hint::black_box;

/// The sum of `k²` for `k` in `start..start + work`, wrapping at 2⁶⁴, computed one term at a
/// time.
///
/// `black_box` keeps the optimiser from doing what [`sum_of_squares_closed_form`] does: LLVM
/// recognises a sum of a polynomial over a range and replaces the loop with a formula, which
/// would make the "CPU-bound" step take nanoseconds whatever `work` is.
pub fn sum_of_squares(start: u64, work: u64) -> u64 {
    let mut sum = 0u64;
    for k in start..start + work {
        let k = black_box(k);
        sum = sum.wrapping_add(k.wrapping_mul(k));
    }
    sum
}

/// The same sum from the closed form `Σ_{k<n} k² = (n-1)·n·(2n-1)/6`, taken modulo 2⁶⁴.
///
/// It is computed in `u128`, where the products cannot overflow for any `n` below about 2⁴²
/// (far beyond what the CLI accepts), and only then truncated, so it is an independent check of
/// the wrapping loop, not a copy of it.
pub fn sum_of_squares_closed_form(start: u64, work: u64) -> u64 {
    let below = |n: u128| {
        if n == 0 {
            0
        } else {
            (n - 1) * n * (2 * n - 1) / 6
        }
    };
    let end = u128::from(start) + u128::from(work);
    // Truncation is the point: the loop wraps at 2⁶⁴ and so must its check.
    (below(end) - below(u128::from(start))) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loop_matches_closed_form() {
        for (start, work) in [(0, 0), (0, 1), (1, 1), (3, 4), (7, 1000), (1 << 20, 5000)] {
            assert_eq!(
                sum_of_squares(start, work),
                sum_of_squares_closed_form(start, work),
                "start {start}, work {work}"
            );
        }
    }

    #[test]
    fn small_sums_by_hand() {
        // 2² + 3² + 4² = 29
        assert_eq!(sum_of_squares_closed_form(2, 3), 29);
        assert_eq!(sum_of_squares(2, 3), 29);
    }

    #[test]
    fn wraps_like_the_loop_past_two_to_the_64() {
        // Squares of numbers near 2³² overflow u64 after a few terms.
        let start = u64::from(u32::MAX) - 2;
        assert_eq!(
            sum_of_squares(start, 10),
            sum_of_squares_closed_form(start, 10)
        );
    }
}
