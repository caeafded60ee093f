//! The demo's verdict lines, each computed from the numbers in its row: throughput and
//! latency, what the dead workers cost, the jobs that failed for good, and the two backends
//! side by side.

use std::time::Duration;

use timing::{Row, fmt_count, fmt_ns, fmt_rate};

use crate::broker;
use crate::demo::DemoOutcome;

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
    }
    if let Some((n, error)) = outcome.failures.first() {
        lines.push(format!(
            "{} job(s) failed for good after {retries} retries, e.g. job {n}: {error}",
            outcome.failures.len(),
        ));
    }
    lines
}

/// What the dead workers cost. A job a dead worker held comes back only once its heartbeat has
/// been missed long enough, so the slowest job's time says whether it held any: a slowest job
/// under that timeout means the worker died between jobs.
fn restart_verdict(outcome: &DemoOutcome) -> String {
    let row = &outcome.row;
    let timeout = broker::HEARTBEAT * broker::MISSED_HEARTBEATS as u32;
    let slowest = Duration::from_nanos(row.max_ns.unwrap_or(0));
    let held = if slowest >= timeout {
        format!("the jobs they held ran again once their heartbeat had been silent for {timeout:?}")
    } else {
        format!("no job waited for the {timeout:?} heartbeat timeout, so they held none unfinished")
    };
    format!(
        "{} worker process(es) died mid-run and were replaced; {held} (slowest job {} from \
         enqueue to done): {} of {} results correct",
        outcome.restarts,
        fmt_ns(slowest.as_nanos() as f64),
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
    use timing::Latencies;

    use super::*;

    fn outcome(slowest: Duration) -> DemoOutcome {
        let mut latencies = Latencies::new();
        latencies.record(slowest);
        let row = Row::new(crate::LESSON, "sqlite")
            .items(10)
            .check(10, 10)
            .latencies(&latencies);
        DemoOutcome {
            row,
            failures: Vec::new(),
            rerun: 0,
            restarts: 1,
        }
    }

    #[test]
    fn the_slowest_job_says_whether_a_dead_worker_held_jobs() {
        let timeout = broker::HEARTBEAT * broker::MISSED_HEARTBEATS as u32;
        let late = restart_verdict(&outcome(timeout + Duration::from_millis(500)));
        assert!(late.contains("ran again"), "{late}");
        let early = restart_verdict(&outcome(timeout / 2));
        assert!(early.contains("held none"), "{early}");
    }
}
