//! The demo's verdict lines, each computed from the numbers in its row: throughput and
//! latency, what the dead workers cost, the jobs that failed for good, and the two backends
//! side by side.

use timing::{Row, fmt_count, fmt_ns, fmt_rate};

use crate::broker;
use crate::measure::DemoOutcome;

/// The verdict lines for one backend's outcome, computed from its row: throughput and latency,
/// the workers that died and what that cost, the jobs that failed for good.
pub fn lines(outcome: &DemoOutcome, retries: usize) -> Vec<String> {
    let row = &outcome.row;
    let mut lines = vec![format!(
        "{} jobs through {} on {} worker processes: {}, enqueue-to-done p50 {}, p99 {}",
        fmt_count(row.items),
        row.variant,
        row.workers,
        fmt_rate(row.per_s),
        fmt_ns(row.p50_ns.unwrap_or(0) as f64),
        fmt_ns(row.p99_ns.unwrap_or(0) as f64),
    )];
    if outcome.restarts > 0 {
        lines.push(restart_verdict(outcome));
    } else if outcome.redeliveries > 0 {
        lines.push(format!(
            "{} job delivery(ies) were lost with a worker the broker failed under and ran again; \
             every result still checked",
            outcome.redeliveries
        ));
    }
    if let Some((n, error)) = outcome.failures.first() {
        lines.push(format!(
            "{} job(s) failed for good after {retries} retries, e.g. job {n}: {error}",
            outcome.failures.len(),
        ));
    }
    lines
}

/// What the dead workers cost, from the deliveries the handler counted in the broker: a job
/// delivered more often than its retries explain was held by a worker that died, and ran again
/// once that worker's heartbeat had been silent long enough.
fn restart_verdict(outcome: &DemoOutcome) -> String {
    let row = &outcome.row;
    let timeout = broker::HEARTBEAT * broker::MISSED_HEARTBEATS as u32;
    let held = if outcome.redeliveries > 0 {
        format!(
            "{} job delivery(ies) they held were lost with them and ran again once their \
             heartbeat had been silent for {timeout:?}",
            outcome.redeliveries
        )
    } else {
        "no job was delivered twice, so they held none unfinished".to_string()
    };
    format!(
        "{} worker process(es) died mid-run and were replaced; {held}: {} of {} results correct",
        outcome.restarts,
        fmt_count(row.result),
        fmt_count(row.expected)
    )
}

/// The verdict comparing the two backends' rows, when both ran.
pub fn compare(sqlite: &Row, redis: &Row) -> String {
    format!(
        "Redis moved jobs {:.1}x as fast as SQLite; SQLite needed no server",
        redis.per_s / sqlite.per_s.max(f64::MIN_POSITIVE)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(redeliveries: u64) -> DemoOutcome {
        let row = Row::new(crate::LESSON, "sqlite").items(10).check(10, 10);
        DemoOutcome {
            row,
            failures: Vec::new(),
            rerun: 0,
            redeliveries,
            restarts: 1,
        }
    }

    #[test]
    fn the_delivery_counts_say_whether_a_dead_worker_held_jobs() {
        let held = restart_verdict(&outcome(2));
        assert!(
            held.contains("2 job delivery(ies)") && held.contains("ran again"),
            "{held}"
        );
        let none = restart_verdict(&outcome(0));
        assert!(none.contains("held none"), "{none}");
    }
}
