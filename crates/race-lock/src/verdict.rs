//! The lesson's verdict lines, each computed from the rows that ran.

use timing::{Report, fmt_count};

/// The lesson's conclusions, each computed from the rows that ran.
pub fn add_verdicts(report: &mut Report) {
    let lines: Vec<String> = [
        racy_verdict(report),
        exact_verdict(report),
        speed_verdict(report),
        semaphore_verdict(report),
        condvar_verdict(report),
    ]
    .into_iter()
    .flatten()
    .flatten()
    .collect();
    for line in lines {
        report.verdict(line);
    }
}

/// How many updates `racy` lost, and what CPython does with the same program.
fn racy_verdict(report: &Report) -> Option<Vec<String>> {
    let racy = report.row("racy")?;
    let lost = racy.expected.saturating_sub(racy.result);
    let first = if lost == 0 {
        // One thread, or threads so short that they never overlapped: nothing to blame on a
        // race this time, and saying otherwise would be a verdict not drawn from the numbers.
        format!(
            "racy lost no update this run ({} thread{}): the race needs two threads between a \
             read and a write at once; more --workers or --increments make that near certain",
            racy.workers,
            if racy.workers == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "racy lost {} of {} updates ({:.1} %): another thread wrote between its read and \
             its write",
            fmt_count(lost),
            fmt_count(racy.expected),
            100.0 * lost as f64 / racy.expected as f64
        )
    };
    Some(vec![
        first,
        "(CPython 3.11 loses none with the tutorial's `counter += 1`: it switches threads only \
         at calls and backward jumps; with a call between read and write it loses about half. \
         See examples/python/race_lock.py.)"
            .to_string(),
    ])
}

/// Whether the synchronised counters kept every update.
fn exact_verdict(report: &Report) -> Option<Vec<String>> {
    let names: Vec<String> = ["mutex", "atomic", "rwlock"]
        .iter()
        .filter_map(|v| report.row(v))
        .map(|r| {
            format!(
                "{} {}",
                r.variant,
                if r.correct { "exact" } else { "WRONG" }
            )
        })
        .collect();
    (!names.is_empty()).then(|| vec![names.join(", ")])
}

/// The atomic's rate over the mutex's.
fn speed_verdict(report: &Report) -> Option<Vec<String>> {
    let (mutex, atomic) = (report.row("mutex")?, report.row("atomic")?);
    Some(vec![format!(
        "atomic ran at {:.1}x the mutex's rate",
        atomic.per_s / mutex.per_s.max(f64::MIN_POSITIVE)
    )])
}

/// The most permits held at once, against the limit.
fn semaphore_verdict(report: &Report) -> Option<Vec<String>> {
    let s = report.row("semaphore")?;
    Some(vec![format!(
        "semaphore: at most {} of {} threads held a permit at once (limit {})",
        s.extra["max_in_flight"], s.workers, s.extra["permits"]
    )])
}

/// Items consumed and their sum, against the closed forms.
fn condvar_verdict(report: &Report) -> Option<Vec<String>> {
    let c = report.row("condvar")?;
    Some(vec![format!(
        "condvar: {} of {} items consumed, sum {} (want {})",
        fmt_count(c.result),
        fmt_count(c.expected),
        fmt_count(c.extra["sum"].as_u64().unwrap_or_default()),
        fmt_count(c.extra["expected_sum"].as_u64().unwrap_or_default())
    )])
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::time::Duration;

    use timing::Row;

    use super::*;

    fn counted(variant: &str, expected: u64, result: u64, millis: u64) -> Row {
        Row::new(crate::LESSON, variant)
            .items(expected)
            .check(expected, result)
            .wall(Duration::from_millis(millis))
    }

    #[test]
    fn verdicts_come_from_the_numbers() {
        let mut report = Report::new(crate::LESSON);
        report.push(counted("racy", 2_000, 1_500, 1).deliberately_broken());
        report.push(counted("mutex", 2_000, 2_000, 4));
        report.push(counted("atomic", 2_000, 2_000, 1));
        report.push(counted("rwlock", 200, 199, 4));
        add_verdicts(&mut report);
        let table = report.table();
        assert!(
            table.contains("racy lost 500 of 2 000 updates (25.0 %)"),
            "{table}"
        );
        assert!(
            table.contains("mutex exact, atomic exact, rwlock WRONG"),
            "{table}"
        );
        assert!(
            table.contains("atomic ran at 4.0x the mutex's rate"),
            "{table}"
        );
        assert!(!report.all_as_expected());
    }

    #[test]
    fn only_the_variants_that_ran_get_a_verdict() {
        let mut report = Report::new(crate::LESSON);
        report.push(counted("atomic", 10, 10, 1));
        add_verdicts(&mut report);
        let table = report.table();
        assert!(table.contains("atomic exact"), "{table}");
        assert!(!table.contains("racy"), "{table}");
        assert!(!table.contains("the mutex's rate"), "{table}");
    }

    #[test]
    fn a_racy_run_that_lost_nothing_says_so() {
        let mut report = Report::new(crate::LESSON);
        report.push(counted("racy", 1_000, 1_000, 1).deliberately_broken());
        add_verdicts(&mut report);
        let table = report.table();
        assert!(table.contains("racy lost no update this run"), "{table}");
        assert!(!table.contains("another thread wrote"), "{table}");
    }
}
