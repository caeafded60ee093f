//! The pilot: how long one CPU step takes on this machine and build, for the estimate of a
//! run's length and the stall its sizes should cause.

use std::time::Duration;

use timing::Stopwatch;

use super::Sizes;
use crate::steps::s2_cpu_inline::sum_of_squares;

/// Iterations of the CPU step each pilot sum times.
const PILOT_WORK: u64 = 200_000;

/// Pilot sums timed; the fastest counts.
const PILOTS: u32 = 5;

/// How long one CPU step of `work` iterations takes on this machine and build, from the
/// fastest of a few short pilot sums.
///
/// The fastest, not the mean: a pilot is only ever slowed down (the kernel descheduling it on a
/// busy machine, a cold cache), never sped up, so the fastest is the closest to the sum's own
/// speed, and one unlucky pilot cannot inflate the estimate many times over.
pub fn cpu_step_time(work: u64) -> Duration {
    let fastest = (0..PILOTS)
        .map(|_| Stopwatch::time(|| sum_of_squares(1, PILOT_WORK)).1)
        .min()
        .unwrap_or_default();
    timing::extrapolate(PILOT_WORK, fastest, work)
}

/// How long a run of `gather` (io-gather or not) and `mixed` mixed steps should take: one delay
/// each, plus every CPU step (`step` long) spread over the workers.
pub fn estimate(sizes: Sizes, step: Duration, gather: bool, mixed: usize) -> Duration {
    let parallel = sizes.workers.min(timing::cores()).max(1);
    let cpu = step.mul_f64(sizes.tasks as f64 / parallel as f64);
    let steps = u32::from(gather) + mixed as u32;
    sizes.delay * steps + cpu * mixed as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: Sizes = Sizes {
        requests: 10,
        delay: Duration::from_millis(2),
        tasks: 6,
        work: 2_000,
        workers: 2,
    };

    #[test]
    fn the_estimate_grows_with_the_work() {
        let absurd = Sizes {
            work: 1_000_000_000,
            tasks: 10_000,
            ..SIZES
        };
        let long = estimate(absurd, cpu_step_time(absurd.work), true, 3);
        assert!(long > timing::REFUSE_AFTER, "{long:?}");
        let short = estimate(SIZES, cpu_step_time(SIZES.work), true, 3);
        assert!(short < Duration::from_secs(1), "{short:?}");
    }
}
