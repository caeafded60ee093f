//! How long a run will take, before it starts: the work is the same loop in every variant, so a
//! pilot of the loop on this machine and this build, scaled up, says it (for CPUs it has to
//! itself: other work on the machine makes the run longer). A run estimated past a
//! few seconds says so on stderr; past ten minutes it is refused ([`timing::check_duration`]).

use std::time::Duration;

use nix::time::{ClockId, clock_gettime};
use timing::{Stopwatch, fmt_count};

use super::{Sizes, Variant};
use crate::steps::cpu_intensive_task;

/// Additions the pilot times: a millisecond or two optimised, more in a debug build.
pub const PILOT_N: u64 = 2_000_000;

/// What starting one child process is allowed in the estimate: about what re-executing this
/// program costs on a small machine (`cargo bench -p cpu-processes --bench start` measures it).
/// A fork costs less; the estimate errs long.
const START_PER_CHILD: Duration = Duration::from_millis(2);

/// The CPU time one pilot task of [`PILOT_N`] additions takes on this thread.
///
/// CPU time, not wall time: the pilot is over in milliseconds, and a burst of other work on the
/// machine (a build, a test suite) in those milliseconds would multiply a wall-clock estimate
/// and refuse a run that fits. The thread's own clock counts only the time it ran. If that
/// clock cannot be read, the wall time stands in.
pub fn pilot() -> Duration {
    let cpu = || clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).map(Duration::from);
    let before = cpu();
    let (_, wall) = Stopwatch::time(|| cpu_intensive_task(PILOT_N));
    match (before, cpu()) {
        (Ok(before), Ok(after)) => after.saturating_sub(before),
        _ => wall,
    }
}

/// How long `variants` take for `sizes`, given that [`PILOT_N`] additions took `pilot`: per
/// round, sequential does every task on one core; the others spread them over the cores, and
/// the process variants start one child per task.
pub fn estimate(sizes: Sizes, variants: &[Variant], pilot: Duration) -> Duration {
    let task = timing::extrapolate(PILOT_N, pilot, sizes.n);
    let workers = sizes.workers as u32;
    let at_once = sizes.workers.clamp(1, timing::cores()) as f64;
    let round: Duration = variants
        .iter()
        .map(|variant| match variant {
            Variant::Sequential => task * workers,
            Variant::Threads => (task * workers).div_f64(at_once),
            Variant::Fork | Variant::Spawn => {
                (task * workers).div_f64(at_once) + START_PER_CHILD * workers
            }
        })
        .sum();
    round * u32::try_from(sizes.rounds).unwrap_or(u32::MAX)
}

/// Announces a run estimated past a few seconds and refuses one past ten minutes, naming an
/// `--n` that would fit.
pub fn refuse_long_runs(sizes: Sizes, variants: &[Variant]) -> anyhow::Result<()> {
    let estimate = estimate(sizes, variants, pilot());
    let what = format!(
        "{} round(s) of {} worker(s) summing 0..{}",
        sizes.rounds,
        fmt_count(sizes.workers as u64),
        fmt_count(sizes.n)
    );
    // The `--n` that would take half the allowed time, all else equal.
    let scale = timing::REFUSE_AFTER.as_secs_f64() / 2.0 / estimate.as_secs_f64().max(1e-9);
    let fits = ((sizes.n as f64 * scale) as u64).max(1);
    let instead = format!("pass --n {fits} or less, or fewer --workers or --rounds");
    timing::check_duration(&what, estimate, &instead)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_grows_with_every_size() {
        let sizes = Sizes {
            n: 100 * PILOT_N,
            workers: 2,
            rounds: 1,
        };
        let pilot = Duration::from_millis(2);
        let all = Variant::ALL;
        let one = estimate(sizes, all, pilot);
        // Sequential alone: 2 tasks of 100 pilots each, one after another.
        let seq = estimate(sizes, &[Variant::Sequential], pilot);
        assert_eq!(seq, Duration::from_millis(400));
        assert!(one > seq);
        let more = Sizes { rounds: 3, ..sizes };
        assert_eq!(estimate(more, all, pilot), one * 3);
        let wider = Sizes {
            workers: 1024,
            ..sizes
        };
        assert!(estimate(wider, all, pilot) > one * 100);
    }
}
