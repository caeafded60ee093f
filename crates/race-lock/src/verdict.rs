//! What the numbers say: one line per conclusion, each computed from the steps' typed outcomes.

use timing::fmt_count;

use crate::measure::{Measured, Outcome};

/// The lesson's conclusions, each computed from the steps that ran, in the order they ran.
pub fn verdicts(measured: &[Measured]) -> Vec<String> {
    let mut lines: Vec<String> = measured
        .iter()
        .filter_map(|m| match m.outcome {
            Outcome::Racy { expected, counted } => {
                Some(racy_verdict(m.row.workers, expected, counted))
            }
            _ => None,
        })
        .collect();
    lines.extend(exact_verdict(measured));
    lines.extend(speed_verdict(measured));
    lines.extend(measured.iter().filter_map(waiting_verdict));
    lines
}

/// Whether the synchronised counters kept every update: "mutex exact, rwlock WRONG".
fn exact_verdict(measured: &[Measured]) -> Option<String> {
    let names: Vec<String> = measured
        .iter()
        .filter_map(|m| {
            let exact = match m.outcome {
                Outcome::Counted { expected, counted } => expected == counted,
                Outcome::ReadMostly { writes, seen } => {
                    seen.pair == (writes, writes) && seen.torn_reads == 0
                }
                _ => return None,
            };
            Some(format!(
                "{} {}",
                m.row.variant,
                if exact { "exact" } else { "WRONG" }
            ))
        })
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}

/// What the semaphore and the buffer saw.
fn waiting_verdict(m: &Measured) -> Option<String> {
    Some(match m.outcome {
        Outcome::Admitted {
            tasks,
            permits,
            admitted,
        } => format!(
            "semaphore: at most {} of {} threads held a permit at once (limit {permits}); {} of \
             {} tasks seen inside a permit",
            admitted.most_at_once,
            m.row.workers,
            fmt_count(admitted.holders_seen),
            fmt_count(tasks)
        ),
        Outcome::Received { want, received } => format!(
            "condvar: {} of {} items consumed, sum {} (want {}){}",
            fmt_count(received.count),
            fmt_count(want.count),
            fmt_count(u64::try_from(received.sum).unwrap_or(u64::MAX)),
            fmt_count(u64::try_from(want.sum).unwrap_or(u64::MAX)),
            if received == want { "" } else { ": WRONG" }
        ),
        _ => return None,
    })
}

/// How many updates `racy` lost.
fn racy_verdict(workers: usize, expected: u64, counted: u64) -> String {
    let lost = expected.saturating_sub(counted);
    if lost == 0 {
        // One thread, or threads so short that they never overlapped: nothing to blame on a
        // race this time, and saying otherwise would be a verdict not drawn from the numbers.
        format!(
            "racy lost no update this run ({workers} thread{}): the race needs two threads \
             between a read and a write at once; more --workers or --increments make that near \
             certain",
            if workers == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "racy lost {} of {} updates ({:.1} %): another thread wrote between its read and \
             its write",
            fmt_count(lost),
            fmt_count(expected),
            100.0 * lost as f64 / expected as f64
        )
    }
}

/// The atomic's rate over the mutex's, when both ran.
fn speed_verdict(measured: &[Measured]) -> Option<String> {
    let rate = |variant: &str| {
        measured
            .iter()
            .find(|m| m.row.variant == variant)
            .map(|m| m.row.per_s)
    };
    let (mutex, atomic) = (rate("mutex")?, rate("atomic")?);
    Some(format!(
        "atomic ran at {:.1}x the mutex's rate",
        atomic / mutex.max(f64::MIN_POSITIVE)
    ))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::time::Duration;

    use timing::Row;

    use super::*;

    fn counted(variant: &str, expected: u64, counted: u64, millis: u64) -> Measured {
        Measured {
            row: Row::new(crate::LESSON, variant)
                .workers(4)
                .items(expected)
                .check(expected, counted)
                .wall(Duration::from_millis(millis)),
            outcome: if variant == "racy" {
                Outcome::Racy { expected, counted }
            } else {
                Outcome::Counted { expected, counted }
            },
        }
    }

    #[test]
    fn verdicts_come_from_the_numbers() {
        let lines = verdicts(&[
            counted("racy", 2_000, 1_500, 1),
            counted("mutex", 2_000, 2_000, 4),
            counted("atomic", 2_000, 1_999, 1),
        ])
        .join("\n");
        assert!(
            lines.contains("racy lost 500 of 2 000 updates (25.0 %)"),
            "{lines}"
        );
        assert!(lines.contains("mutex exact, atomic WRONG"), "{lines}");
        assert!(
            lines.contains("atomic ran at 4.0x the mutex's rate"),
            "{lines}"
        );
    }

    #[test]
    fn only_the_steps_that_ran_get_a_verdict() {
        let lines = verdicts(&[counted("atomic", 10, 10, 1)]).join("\n");
        assert!(lines.contains("atomic exact"), "{lines}");
        assert!(!lines.contains("racy"), "{lines}");
        assert!(!lines.contains("the mutex's rate"), "{lines}");
    }

    #[test]
    fn a_racy_run_that_lost_nothing_says_so() {
        let lines = verdicts(&[counted("racy", 1_000, 1_000, 1)]).join("\n");
        assert!(lines.contains("racy lost no update this run"), "{lines}");
        assert!(!lines.contains("another thread wrote"), "{lines}");
    }
}
