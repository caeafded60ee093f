//! The verdict lines under the table, each computed from the rows of this run: never a claim
//! the numbers in front of the reader do not back.

use timing::{Report, Row, fmt_ns};

use crate::variants::Setup;

/// The lesson's conclusions, computed from this run's rows: what batching costs, how far the
/// hand-built pool is from rayon, what chunking buys, and what processes cost.
pub fn verdicts(report: &Report, setup: &Setup) -> Vec<String> {
    let row = |v: &str| report.row(v).filter(|r| r.per_s > 0.0);
    let overhead = |r: &Row| fmt_ns(r.extra["overhead_ns"].as_f64().unwrap_or(0.0).max(0.0));
    let mut lines = Vec::new();
    if let (Some(new), Some(one)) = (row("batch-new-pool-each"), row("batch-one-pool")) {
        let per_batch = (new.wall_s - one.wall_s) / setup.batches as f64;
        lines.push(format!(
            "batching: one pool for all batches is {} a new pool per batch; a new pool costs {} per batch",
            compare(one.per_s, new.per_s),
            fmt_ns(per_batch.max(0.0) * 1e9),
        ));
        let process_start = row("process-pool").and_then(|r| r.extra["pool_start_s"].as_f64());
        if let Some(start) = process_start {
            lines.push(format!(
                "batching with processes, as the tutorial does: {} batches x {} process-pool start = {} more",
                setup.batches,
                fmt_ns(start * 1e9),
                fmt_ns(start * setup.batches as f64 * 1e9),
            ));
        }
    }
    if let (Some(ours), Some(rayon)) = (row("thread-pool-chunked"), row("rayon")) {
        lines.push(format!(
            "yardstick: thread-pool-chunked runs at {:.2}x rayon's rate ({} vs {} overhead per task)",
            ours.per_s / rayon.per_s,
            overhead(ours),
            overhead(rayon),
        ));
    }
    if let (Some(single), Some(chunked)) = (row("thread-pool"), row("thread-pool-chunked")) {
        lines.push(format!(
            "chunking: chunks of {} are {} one item a message",
            setup.chunk,
            compare(chunked.per_s, single.per_s)
        ));
    }
    if let (Some(processes), Some(threads)) = (row("process-pool"), row("thread-pool-chunked")) {
        lines.push(format!(
            "processes: the process pool is {} the thread pool at the same chunk (JSON and pipes)",
            compare(processes.per_s, threads.per_s)
        ));
    }
    lines
}

/// "3.1x faster than" or "2.0x slower than", from two rates.
fn compare(a: f64, b: f64) -> String {
    if a >= b {
        format!("{:.1}x faster than", a / b)
    } else {
        format!("{:.1}x slower than", b / a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_says_which_way() {
        assert_eq!(compare(30.0, 10.0), "3.0x faster than");
        assert_eq!(compare(10.0, 40.0), "4.0x slower than");
    }
}
