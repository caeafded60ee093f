//! What the numbers say: one line per conclusion, each computed from the steps' typed outcomes.

use std::time::Duration;

use timing::{fmt_count, fmt_ns};

use crate::measure::check::{FACTOR, STALL_FLOOR};
use crate::measure::{Measured, MixedOutcome, Offload, Outcome, Placement, WaitOutcome};

/// The lesson's conclusions, each computed from the steps that ran.
pub fn verdicts(measured: &[Measured]) -> Vec<String> {
    let mut lines: Vec<String> = measured
        .iter()
        .filter_map(|m| match m.outcome {
            Outcome::Gathered {
                requests,
                whole,
                delay,
            } => Some(gather_verdict(requests, whole, delay, m.row.wall_time())),
            Outcome::Waited(ref waited) => Some(wait_verdict(waited, m.row.wall_time())),
            Outcome::Mixed(_) => None,
        })
        .collect();
    lines.extend(heartbeat_verdict(measured));
    lines
}

/// How long the gather took, in server delays: what running the waits at once bought.
fn gather_verdict(requests: u64, whole: u64, delay: Duration, wall: Duration) -> String {
    let arrived = if whole == requests {
        String::new()
    } else {
        format!(" ({} of them whole: WRONG)", fmt_count(whole))
    };
    format!(
        "io-gather: {} requests of {} each in {}{arrived}: {:.1}x one delay",
        fmt_count(requests),
        fmt_ns(delay.as_nanos() as f64),
        fmt_ns(wall.as_nanos() as f64),
        wall.as_secs_f64() / delay.as_secs_f64()
    )
}

/// How many waits were waiting at once, how long they took in delays, and the memory each took.
fn wait_verdict(waited: &WaitOutcome, wall: Duration) -> String {
    let (started, at_once) = (waited.waited.started, waited.waited.most_at_once);
    let wrong = if at_once == started { "" } else { " (WRONG)" };
    let overlap = format!(
        "{} of {} waits under way at once{wrong}",
        fmt_count(at_once),
        fmt_count(started)
    );
    format!(
        "{}: {overlap} in {} ({:.1}x one delay); peak memory {} KiB, {} B a wait",
        waited.variant,
        fmt_ns(wall.as_nanos() as f64),
        wall.as_secs_f64() / waited.delay.as_secs_f64(),
        fmt_count(waited.peak_rss_kib),
        fmt_count(waited.bytes_per_wait())
    )
}

/// `cpu-inline`'s heartbeat p99 against each offloaded step's, and whether each passed.
fn heartbeat_verdict(measured: &[Measured]) -> Option<String> {
    let mixed: Vec<&MixedOutcome> = measured
        .iter()
        .filter_map(|m| match &m.outcome {
            Outcome::Mixed(mixed) => Some(mixed),
            Outcome::Gathered { .. } | Outcome::Waited(_) => None,
        })
        .collect();
    let inline = mixed.iter().find(|m| m.placement == Placement::Inline)?;
    let offloaded: Vec<&MixedOutcome> = mixed
        .iter()
        .copied()
        .filter(|m| m.placement != Placement::Inline)
        .collect();
    if offloaded.is_empty() {
        return None;
    }
    // A ratio only where the p99s were compared: at sizes too small to stall the runtime the
    // two p99s are both scheduling noise, and their ratio would claim what was not measured.
    let compared = offloaded
        .iter()
        .all(|m| !matches!(m.offload, Some(Offload::NoStall { .. })));
    let ratios: Vec<String> = offloaded
        .iter()
        .map(|m| {
            let name = m.placement.variant();
            let p99 = fmt_ns(m.beat.p99_ns as f64);
            if compared {
                // A p99 of 0 ns cannot happen with real clocks, but must not divide by zero.
                let times = inline.beat.p99_ns as f64 / m.beat.p99_ns.max(1) as f64;
                format!("{times:.0}x {name}'s ({p99})")
            } else {
                format!("{name}'s {p99}")
            }
        })
        .collect();
    let outcome = offload_outcome(&offloaded);
    Some(format!(
        "heartbeat p99 with CPU work on the runtime ({}): {}; {outcome}",
        fmt_ns(inline.beat.p99_ns as f64),
        ratios.join(", ")
    ))
}

/// Whether the offloaded steps kept the heartbeat FACTOR times below `cpu-inline`'s, or why
/// they were not compared.
fn offload_outcome(offloaded: &[&MixedOutcome]) -> String {
    let failed: Vec<&str> = offloaded
        .iter()
        .filter(|m| matches!(m.offload, Some(Offload::Failed { .. })))
        .map(|m| m.placement.variant())
        .collect();
    let no_stall = offloaded.iter().find_map(|m| match m.offload {
        Some(Offload::NoStall { expected_stall }) => Some(expected_stall),
        _ => None,
    });
    if let Some(expected_stall) = no_stall {
        format!(
            "not compared, these sizes hold the runtime {} (under {}; more --work or --tasks \
             make a stall)",
            fmt_ns(expected_stall.as_nanos() as f64),
            fmt_ns(STALL_FLOOR.as_nanos() as f64)
        )
    } else if failed.is_empty() {
        format!("each offloaded p99 at most 1/{FACTOR} of it, the runtime kept free")
    } else {
        format!(
            "{} not under 1/{FACTOR} of it: WRONG, the CPU work held the runtime",
            failed.join(" and ")
        )
    }
}

#[cfg(test)]
mod tests {
    use timing::Row;

    use super::*;
    use crate::measure::Beat;
    use crate::measure::check::judge;

    const MS: u64 = 1_000_000;

    fn mixed(placement: Placement, p99_ns: u64, inline_p99_ns: Option<u64>) -> Measured {
        stalled(placement, p99_ns, inline_p99_ns, STALL_FLOOR)
    }

    fn stalled(
        placement: Placement,
        p99_ns: u64,
        inline_p99_ns: Option<u64>,
        expected_stall: Duration,
    ) -> Measured {
        Measured {
            row: Row::new(crate::LESSON, placement.variant()),
            outcome: Outcome::Mixed(MixedOutcome {
                placement,
                tasks: 8,
                right: 8,
                cpu_threads: 2,
                beat: Beat {
                    p50_ns: p99_ns / 4,
                    p99_ns,
                    max_ns: p99_ns,
                    ticks: 100,
                },
                offload: (placement != Placement::Inline)
                    .then(|| judge(inline_p99_ns, expected_stall, p99_ns)),
            }),
        }
    }

    #[test]
    fn the_gather_is_told_in_delays_and_nothing_more() {
        let ms = Duration::from_millis;
        let line = gather_verdict(200, 200, ms(50), ms(100));
        assert_eq!(
            line,
            "io-gather: 200 requests of 50.0 ms each in 100 ms: 2.0x one delay"
        );
        assert!(gather_verdict(200, 198, ms(50), ms(100)).contains("198 of them whole: WRONG"));
    }

    #[test]
    fn a_wait_is_told_in_delays_and_bytes() {
        let mut waited = WaitOutcome {
            variant: "wait-tasks",
            waited: crate::steps::s5_wait_tasks::Waited {
                started: 1_000,
                most_at_once: 1_000,
            },
            delay: Duration::from_millis(50),
            base_rss_kib: 1_000,
            peak_rss_kib: 2_000,
        };
        let line = wait_verdict(&waited, Duration::from_millis(55));
        let want = "1 000 of 1 000 waits under way at once in 55.0 ms (1.1x one delay); \
                    peak memory 2 000 KiB, 1 024 B a wait";
        assert_eq!(line, format!("wait-tasks: {want}"));
        waited.waited.most_at_once = 999;
        let line = wait_verdict(&waited, Duration::from_millis(55));
        assert!(
            line.contains("999 of 1 000 waits under way at once (WRONG)"),
            "{line}"
        );
    }

    #[test]
    fn offloaded_heartbeats_are_judged_against_the_inline_one() {
        let inline = Some(400 * MS);
        let lines = verdicts(&[
            mixed(Placement::Inline, 400 * MS, None),
            mixed(Placement::SpawnBlocking, 8 * MS, inline),
            mixed(Placement::Rayon, 390 * MS, inline),
        ])
        .join("\n");
        assert!(
            lines.contains("50x cpu-spawn-blocking's (8.00 ms)"),
            "{lines}"
        );
        assert!(lines.contains("1x cpu-rayon's"), "{lines}");
        assert!(
            lines.contains(&format!("cpu-rayon not under 1/{FACTOR} of it: WRONG")),
            "{lines}"
        );
    }

    #[test]
    fn no_stall_means_no_comparison_and_no_inline_means_no_line() {
        let short = Duration::from_millis(2);
        let lines = verdicts(&[
            stalled(Placement::Inline, 2 * MS, None, short),
            stalled(Placement::SpawnBlocking, 2 * MS, Some(2 * MS), short),
        ])
        .join("\n");
        assert!(
            lines.contains("not compared, these sizes hold the runtime 2.00 ms"),
            "{lines}"
        );
        assert!(lines.contains("cpu-spawn-blocking's 2.00 ms"), "{lines}");
        assert!(!lines.contains("x cpu-spawn-blocking's"), "{lines}");
        assert!(verdicts(&[mixed(Placement::Rayon, 2 * MS, None)]).is_empty());
    }
}
