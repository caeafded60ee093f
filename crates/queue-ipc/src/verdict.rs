//! What the numbers say: one line per conclusion, each computed from the steps' typed outcomes
//! and the rows' rates.

use timing::{fmt_bytes_rate, fmt_count};

use crate::measure::{ArrayRead, Measured, Outcome};

/// The lesson's conclusions, each computed from the variants that ran.
pub fn verdicts(measured: &[Measured]) -> Vec<String> {
    let mut lines: Vec<String> = measured
        .iter()
        .filter(|m| !m.row.correct)
        .map(|m| format!("{} FAILED: {}", m.row.variant, m.row.note))
        .collect();
    lines.extend(stream_verdicts(measured));
    lines.extend(measured.iter().filter_map(counter_verdict));
    if let (Some(atomic), Some(locked)) = (
        correct(measured, "shm-counter"),
        correct(measured, "shm-counter-locked"),
    ) {
        lines.push(format!(
            "fetch_add (shm-counter) counted at {:.1}x the rate of the locked counter",
            atomic.row.per_s / locked.row.per_s.max(1e-9)
        ));
    }
    lines.extend(measured.iter().filter_map(array_verdict));
    lines
}

/// The streams' rates against one another, where both of a pair ran and are correct.
fn stream_verdicts(measured: &[Measured]) -> Vec<String> {
    let ratio = |fast: &str, slow: &str, why: &str| {
        let (f, s) = (correct(measured, fast)?, correct(measured, slow)?);
        Some(format!(
            "{fast} moved {:.1}x the messages/s of {slow} ({why})",
            f.row.per_s / s.row.per_s.max(1e-9)
        ))
    };
    let mut lines = Vec::new();
    lines.extend(ratio(
        "pipe",
        "pipe-per-message",
        "one write per 64 KiB buffer, against one per message",
    ));
    let pipe_and_channel = correct(measured, "pipe").zip(correct(measured, "ipc-channel"));
    lines.extend(pipe_and_channel.map(|(pipe, channel)| {
        format!(
            "pipe moved {:.1}x the messages/s of ipc-channel (one system call per message), at \
             {:.1}x its median latency",
            pipe.row.per_s / channel.row.per_s.max(1e-9),
            pipe.row.p50_ns.unwrap_or(0) as f64 / channel.row.p50_ns.unwrap_or(1).max(1) as f64
        )
    }));
    lines.extend(ratio(
        "pipe-tuned",
        "pipe",
        "the same frames, with less work per frame",
    ));
    // Below 1.0x too: at which message size the ring overtakes the pipe is what a sweep of
    // --bytes shows.
    lines.extend(ratio(
        "shm-ring",
        "pipe",
        "no copy through the kernel, and the payload checked a word at a time, not a byte",
    ));
    lines.extend(ratio(
        "shm-ring",
        "pipe-tuned",
        "the same payload check, with no copy through the kernel",
    ));
    lines
}

/// The row of `variant`, if it ran and is correct.
fn correct<'a>(measured: &'a [Measured], variant: &str) -> Option<&'a Measured> {
    measured
        .iter()
        .find(|m| m.row.variant == variant && m.row.correct)
}

/// "shm-counter: 2 processes added 2 000 000 to one shared counter: none lost".
fn counter_verdict(m: &Measured) -> Option<String> {
    let Outcome::Counter(counted) = &m.outcome else {
        return None;
    };
    if !counted.failures.is_empty() {
        return None;
    }
    let lost = counted.expected.saturating_sub(counted.total);
    Some(format!(
        "{}: {} processes added {} to one shared counter: {}",
        m.row.variant,
        m.row.workers,
        fmt_count(counted.expected),
        if lost == 0 {
            "none lost".to_string()
        } else {
            format!("{} lost", fmt_count(lost))
        }
    ))
}

/// The parent's read of the shared array, beside the `memcpy` of the same run.
fn array_verdict(m: &Measured) -> Option<String> {
    let Outcome::Array(ArrayRead {
        read_bytes_per_s,
        memcpy_bytes_per_s: Some(copy),
        wrong: 0,
        ..
    }) = m.outcome
    else {
        return None;
    };
    Some(format!(
        "the parent read the child's shared array at {}, {:.0} % of a memcpy of the same size in \
         this run ({}), with no copy and no serialisation",
        fmt_bytes_rate(read_bytes_per_s),
        100.0 * read_bytes_per_s / copy.max(1e-9),
        fmt_bytes_rate(copy)
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use timing::Row;

    use super::*;
    use crate::steps::{Counted, Streamed};

    fn stream(variant: &str, received: u64, millis: u64) -> Measured {
        let streamed = Streamed {
            sent: 1000,
            received,
            failure: None,
        };
        Measured {
            row: Row::new(crate::LESSON, variant)
                .items(received)
                .check(1000, received)
                .wall(Duration::from_millis(millis)),
            outcome: Outcome::Stream(streamed),
        }
    }

    fn counter(variant: &str, total: u64) -> Measured {
        let counted = Counted {
            expected: 2000,
            total,
            failures: Vec::new(),
            takeovers: 0,
        };
        Measured {
            row: Row::new(crate::LESSON, variant)
                .workers(2)
                .items(total)
                .check(2000, total)
                .wall(Duration::from_millis(1)),
            outcome: Outcome::Counter(counted),
        }
    }

    #[test]
    fn verdicts_come_from_the_numbers() {
        let lines = verdicts(&[
            stream("pipe", 1000, 1),
            stream("pipe-per-message", 1000, 4),
            stream("pipe-tuned", 900, 1),
            stream("shm-ring", 1000, 2),
            counter("shm-counter-locked", 1990),
        ])
        .join("\n");
        assert!(
            lines.contains("shm-ring moved 0.5x the messages/s of pipe"),
            "{lines}"
        );
        assert!(
            lines.contains("pipe moved 4.0x the messages/s of pipe-per-message"),
            "{lines}"
        );
        assert!(lines.contains("pipe-tuned FAILED"), "{lines}");
        assert!(!lines.contains("pipe-tuned moved"), "{lines}");
        assert!(
            lines.contains(
                "shm-counter-locked: 2 processes added 2 000 to one shared counter: 10 lost"
            ),
            "{lines}"
        );
    }

    #[test]
    fn only_the_variants_that_ran_get_a_verdict() {
        let lines = verdicts(&[counter("shm-counter", 2000)]).join("\n");
        assert!(lines.contains("none lost"), "{lines}");
        assert!(!lines.contains("moved"), "{lines}");
        assert!(!lines.contains("locked"), "{lines}");
    }
}
