//! What makes a row right: every answer against the closed form, and each offloaded step's
//! heartbeat against the inline step's in the same run.

use std::time::Duration;

use timing::{Report, fmt_ns};

use super::{Measured, Offload, Outcome, Placement, Sizes};

/// How many times lower than `cpu-inline`'s an offloaded step's heartbeat p99 must be.
///
/// Four, between two spreads. Two runs of the same inline code can differ in p99 by a factor of
/// two or more (whether one worker or both pick up the CPU steps varies from run to run, and a
/// busy machine stretches one run more than another), so with a factor of two a step run inline
/// by mistake would pass now and then. An offloaded step's p99 is the kernel's scheduling noise
/// (its CPU threads and the runtime's workers share the cores, beside whatever else the machine
/// runs): at sizes past [`STALL_FLOOR`] it stays far below a quarter of `cpu-inline`'s, even on
/// a busy machine.
pub const FACTOR: u64 = 4;

/// The least time the sizes must make `cpu-inline` hold every worker at once before its
/// heartbeat is a stall worth comparing against.
///
/// Below it the steps are too short, or too few to fill every worker, for the inline steps to
/// hold up the heartbeat clearly above the scheduling noise, and an offloaded step could not do
/// measurably better: comparing would fail rows whose code is right. Above it `cpu-inline`'s
/// p99 is many times an offloaded step's, so [`FACTOR`] leaves a wide margin even when the
/// kernel, on a busy machine, holds a worker back for a good part of the stall. It is judged from
/// the sizes and a pilot sum ([`expected_stall`]), not from `cpu-inline`'s own p99, so noise
/// cannot switch the comparison on at sizes too small for it.
pub const STALL_FLOOR: Duration = Duration::from_millis(100);

/// How long `cpu-inline` should hold every worker at once: one CPU step (`step`, timed by a
/// pilot) for each full round of `workers` tasks. Fewer tasks than workers leave a worker free
/// for the heartbeat, so no stall at all.
pub fn expected_stall(sizes: Sizes, step: Duration) -> Duration {
    let rounds = sizes.tasks / sizes.workers.max(1) as u64;
    step.saturating_mul(u32::try_from(rounds).unwrap_or(u32::MAX))
}

/// The sum of `k²` for `k` in `start..start + work`, modulo 2⁶⁴, from the closed form
/// `Σ_{k<n} k² = (n-1)·n·(2n-1)/6`.
///
/// It is computed in `u128`, where the products cannot overflow for any `n` below about 2⁴²
/// (far beyond what the CLI accepts), and only then truncated, so it is an independent check of
/// the wrapping loop in step 2, not a copy of it.
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

/// What the latency columns and the check mean: for the heartbeat steps when `beats` ran, for
/// the wait steps when `waits` ran.
pub fn legend(report: &mut Report, beats: bool, waits: bool) {
    if waits {
        report.legend(
            "wait-*: check counts the waits under way at the same moment; B a wait: the process's \
             peak resident memory during the step, less what it held before, over the waits",
        );
    }
    if !beats {
        return;
    }
    report.legend(format!(
        "p50/p99/max: how late the heartbeat ran, a task due every {} on the same runtime \
         (every tick due during the run counted)",
        fmt_ns(super::PERIOD.as_nanos() as f64)
    ));
    report.legend(format!(
        "check: tasks whose sum matched the closed form (io-gather: whole bodies); \
         cpu-spawn-blocking and cpu-rayon also need a heartbeat p99 at most 1/{FACTOR} of \
         cpu-inline's, when cpu-inline ran and the sizes hold every worker for {} or more \
         (full rounds of tasks times one CPU step, timed by a pilot sum)",
        fmt_ns(STALL_FLOOR.as_nanos() as f64)
    ));
}

/// Compares each offloaded step's heartbeat p99 with `cpu-inline`'s from the same run, records
/// the outcome in its row's note, and makes the row wrong when the offloaded p99 is not
/// [`FACTOR`] times lower.
pub fn against_inline(measured: &mut [Measured], expected_stall: Duration) {
    let inline_p99 = measured.iter().find_map(|m| match &m.outcome {
        Outcome::Mixed(mixed) if mixed.placement == Placement::Inline => Some(mixed.beat.p99_ns),
        _ => None,
    });
    for Measured { row, outcome } in measured.iter_mut() {
        let Outcome::Mixed(mixed) = outcome else {
            continue;
        };
        if mixed.placement == Placement::Inline {
            continue;
        }
        let offload = judge(inline_p99, expected_stall, mixed.beat.p99_ns);
        row.correct &= !matches!(offload, Offload::Failed { .. });
        row.note = format!("{}; {}", row.note, offload.describe(mixed.beat.p99_ns));
        if let Offload::Passed { inline_p99_ns } | Offload::Failed { inline_p99_ns } = offload {
            row.extra
                .insert("inline_p99_ns".into(), inline_p99_ns.into());
        }
        mixed.offload = Some(offload);
    }
}

impl Offload {
    /// The outcome in a few words, for the row's note.
    pub fn describe(self, p99_ns: u64) -> String {
        match self {
            Offload::InlineDidNotRun => "not compared: cpu-inline did not run".into(),
            Offload::NoStall { expected_stall } => format!(
                "not compared: these sizes hold the runtime {}, under {}",
                fmt_ns(expected_stall.as_nanos() as f64),
                fmt_ns(STALL_FLOOR.as_nanos() as f64)
            ),
            Offload::Passed { inline_p99_ns } => format!(
                "p99 1/{:.0} of cpu-inline's",
                inline_p99_ns as f64 / p99_ns.max(1) as f64
            ),
            Offload::Failed { inline_p99_ns } => format!(
                "p99 not under 1/{FACTOR} of cpu-inline's {}: the CPU work held the runtime",
                fmt_ns(inline_p99_ns as f64)
            ),
        }
    }
}

/// The verdict on one offloaded p99, given `cpu-inline`'s if it ran and how long the sizes
/// should make it stall.
pub fn judge(inline_p99_ns: Option<u64>, expected_stall: Duration, p99_ns: u64) -> Offload {
    match inline_p99_ns {
        None => Offload::InlineDidNotRun,
        Some(_) if expected_stall < STALL_FLOOR => Offload::NoStall { expected_stall },
        Some(inline_p99_ns) if p99_ns.saturating_mul(FACTOR) <= inline_p99_ns => {
            Offload::Passed { inline_p99_ns }
        }
        Some(inline_p99_ns) => Offload::Failed { inline_p99_ns },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::s2_cpu_inline::sum_of_squares;

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

    #[test]
    fn an_offloaded_p99_must_be_factor_times_below_a_real_stall() {
        let ms = |n: u64| n * 1_000_000;
        let stall = STALL_FLOOR;
        assert_eq!(judge(None, stall, ms(300)), Offload::InlineDidNotRun);
        let short = STALL_FLOOR / 2;
        let no_stall = judge(Some(ms(300)), short, ms(300));
        assert_eq!(
            no_stall,
            Offload::NoStall {
                expected_stall: short
            }
        );
        let inline_p99_ns = ms(400);
        let bar = inline_p99_ns / FACTOR;
        let passed = Offload::Passed { inline_p99_ns };
        assert_eq!(judge(Some(inline_p99_ns), stall, bar), passed);
        let failed = Offload::Failed { inline_p99_ns };
        assert_eq!(judge(Some(inline_p99_ns), stall, bar + 1), failed);
        assert_eq!(judge(Some(inline_p99_ns), stall, ms(380)), failed);
    }

    #[test]
    fn only_full_rounds_of_tasks_stall_every_worker() {
        let sizes = |tasks, workers| Sizes {
            requests: 1,
            delay: Duration::from_millis(1),
            tasks,
            work: 1,
            workers,
        };
        let step = Duration::from_millis(20);
        assert_eq!(
            expected_stall(sizes(32, 2), step),
            Duration::from_millis(320)
        );
        assert_eq!(expected_stall(sizes(5, 2), step), Duration::from_millis(40));
        assert_eq!(expected_stall(sizes(1, 2), step), Duration::ZERO);
    }
}
