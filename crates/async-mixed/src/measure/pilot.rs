//! The pilot: how long the CPU step takes on this machine and build, for the estimate of a
//! run's length, the stall its sizes should cause, and the default `--work` that makes one.

use std::hint::black_box;
use std::time::Duration;

use timing::Stopwatch;

use super::Sizes;
use super::check::STALL_FLOOR;
use crate::steps::s2_cpu_inline::sum_of_squares;

/// Iterations of the CPU step each pilot sum times.
const PILOT_WORK: u64 = 200_000;

/// Pilot sums timed; the fastest counts.
const PILOTS: u32 = 5;

/// How long the default sizes make `cpu-inline` hold every worker: the stall floor with room
/// to spare, since a pilot sum is the step at its fastest and the real steps only run slower.
///
/// Two and a half floors, not a fixed `--work`: one iteration costs some fifty times more in a
/// debug build than in a release one, and differs between machines, so any fixed count either
/// falls under the floor (the comparison, the lesson's point, does not happen) or runs for many
/// seconds. Three mixed variants of this stall keep the default run near a second.
pub const DEFAULT_STALL: Duration = Duration::from_millis(250);

// The default must clear the floor by a wide margin, or a slow step could leave it under.
const _: () = assert!(DEFAULT_STALL.as_millis() >= 2 * STALL_FLOOR.as_millis());

/// The fastest of a few short pilot sums of the CPU step, from which the time of any number of
/// iterations is extrapolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pilot {
    /// The fastest time of [`PILOT_WORK`] iterations.
    fastest: Duration,
}

impl Pilot {
    /// Times a few pilot sums on this machine and build.
    ///
    /// The fastest, not the mean: a pilot is only ever slowed down (the kernel descheduling it
    /// on a busy machine, a cold cache), never sped up, so the fastest is the closest to the
    /// sum's own speed, and one unlucky pilot cannot inflate the estimate many times over.
    ///
    /// The start, the length and the answer go through `black_box`, as a real step's do (its
    /// start comes from a response, its answer is checked): with constants in and an unused
    /// answer out, the optimiser may drop the arithmetic and keep only the loop, and the pilot
    /// would time a cheaper loop than the steps run, sizing `--job-ms` and the default
    /// `--work` too long.
    pub fn run() -> Self {
        let pilot = || black_box(sum_of_squares(black_box(1), black_box(PILOT_WORK)));
        let fastest = (0..PILOTS)
            .map(|_| Stopwatch::time(pilot).1)
            .min()
            .unwrap_or_default();
        Self { fastest }
    }

    /// How long one CPU step of `work` iterations takes.
    pub fn step_time(self, work: u64) -> Duration {
        timing::extrapolate(PILOT_WORK, self.fastest, work)
    }

    /// The `--work` at which `tasks` tasks on `workers` workers hold `cpu-inline`'s every
    /// worker for [`DEFAULT_STALL`]: that stall spread over the full rounds of tasks (at least
    /// one), at least one iteration.
    pub fn default_work(self, tasks: u64, workers: usize) -> u64 {
        let rounds = (tasks / workers.max(1) as u64).max(1);
        let step = DEFAULT_STALL.as_secs_f64() / rounds as f64;
        // A pilot of 0 ns (a clock too coarse to see it) must not divide by zero.
        let per_iteration = self.fastest.as_secs_f64().max(1e-9) / PILOT_WORK as f64;
        ((step / per_iteration).ceil() as u64).max(1)
    }
}

impl Pilot {
    /// The `--work` whose CPU step takes about `job` on this machine and build, at least one
    /// iteration.
    pub fn work_for(self, job: Duration) -> u64 {
        // A pilot of 0 ns (a clock too coarse to see it) must not divide by zero.
        let per_iteration = self.fastest.as_secs_f64().max(1e-9) / PILOT_WORK as f64;
        ((job.as_secs_f64() / per_iteration).round() as u64).max(1)
    }
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
    use crate::measure::check::expected_stall;

    const SIZES: Sizes = Sizes {
        requests: 10,
        delay: Duration::from_millis(2),
        tasks: 6,
        work: 2_000,
        workers: 2,
    };

    #[test]
    fn a_job_length_becomes_iterations_at_the_pilot_speed() {
        let pilot = Pilot {
            fastest: Duration::from_millis(2),
        };
        // 200 000 iterations in 2 ms: 100 000 a millisecond.
        assert_eq!(pilot.work_for(Duration::from_millis(4)), 400_000);
        assert_eq!(pilot.step_time(400_000), Duration::from_millis(4));
        assert_eq!(pilot.work_for(Duration::from_nanos(1)), 1);
    }

    #[test]
    fn the_estimate_grows_with_the_work() {
        let absurd = Sizes {
            work: 1_000_000_000,
            tasks: 10_000,
            ..SIZES
        };
        let pilot = Pilot::run();
        let long = estimate(absurd, pilot.step_time(absurd.work), true, 3);
        assert!(long > timing::REFUSE_AFTER, "{long:?}");
        let short = estimate(SIZES, pilot.step_time(SIZES.work), true, 3);
        assert!(short < Duration::from_secs(1), "{short:?}");
    }

    #[test]
    fn the_default_work_holds_the_runtime_past_the_floor() {
        // A made-up pilot, so the arithmetic is checked and not the machine.
        let pilot = Pilot {
            fastest: Duration::from_micros(100),
        };
        for (tasks, workers) in [(32, 2), (32, 1), (7, 2), (1, 4)] {
            let work = pilot.default_work(tasks, workers);
            let sizes = Sizes {
                tasks,
                workers,
                work,
                ..SIZES
            };
            let stall = expected_stall(sizes, pilot.step_time(work));
            if tasks >= workers as u64 {
                assert!(stall >= DEFAULT_STALL, "{tasks} on {workers}: {stall:?}");
                assert!(stall > STALL_FLOOR, "{tasks} on {workers}: {stall:?}");
            } else {
                // Fewer tasks than workers leave a worker free: no stall, whatever the work.
                assert_eq!(stall, Duration::ZERO);
            }
        }
    }
}
