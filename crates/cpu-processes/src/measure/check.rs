//! What the tasks must add up to, by the closed form: every row's `expected`, computed without
//! running the code under test, and the sizes whose total fits in 64 bits.

/// The largest `n` whose single sum `n (n - 1) / 2` fits in a `u64`: `--n`'s upper bound.
pub const N_MAX: u64 = 6_074_001_000;

/// The closed form of one task's sum, `0 + 1 + ... + (n - 1) = n (n - 1) / 2`, or `None` when
/// it does not fit in a `u64`. Computed in `u128`, so the product itself cannot overflow.
pub fn series_sum(n: u64) -> Option<u64> {
    let n = u128::from(n);
    u64::try_from(n * n.saturating_sub(1) / 2).ok()
}

/// What `workers` tasks of size `n` add up to, or `None` when the total overflows a `u64`.
pub fn expected_total(n: u64, workers: usize) -> Option<u64> {
    series_sum(n)?.checked_mul(u64::try_from(workers).ok()?)
}

/// The largest `n` whose total over `workers` tasks fits in a `u64`, for the error message.
pub fn max_n(workers: usize) -> u64 {
    // `expected_total` is monotonic in `n`: binary search for the last `n` where it fits.
    let (mut fits, mut overflows) = (1_u64, u64::MAX);
    while overflows - fits > 1 {
        let mid = fits + (overflows - fits) / 2;
        if expected_total(mid, workers).is_some() {
            fits = mid;
        } else {
            overflows = mid;
        }
    }
    fits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::cpu_intensive_task;

    #[test]
    fn the_closed_form_agrees_with_the_loop() {
        for n in [0, 1, 2, 3, 10, 1000, 12_345] {
            assert_eq!(series_sum(n), Some(cpu_intensive_task(n)), "n = {n}");
        }
    }

    #[test]
    fn overflow_is_detected_not_wrapped() {
        // n = 2^32: one sum is 2^63 - 2^31, two are 2^64 - 2^32 (fits), three do not fit.
        let n = 1_u64 << 32;
        assert_eq!(expected_total(n, 2), Some(u64::MAX - (1 << 32) + 1));
        assert_eq!(expected_total(n, 3), None);
        assert_eq!(series_sum(u64::MAX), None);
        let max = max_n(2);
        assert!(expected_total(max, 2).is_some());
        assert!(expected_total(max + 1, 2).is_none());
        assert_eq!(max_n(1), N_MAX);
    }
}
