//! The verdict lines under the table, each computed from this run's typed outcomes: never a
//! claim the numbers in front of the reader do not back.

use timing::fmt_ns;

use crate::measure::{Measured, Setup, Variant};

/// The lesson's conclusions: what batching costs on threads and on processes, what chunking and
/// tuning buy, how far the hand-built pool is from rayon, and what processes cost.
pub fn verdicts(measured: &[Measured], setup: &Setup) -> Vec<String> {
    let find = |v: Variant| {
        measured
            .iter()
            .find(|m| m.outcome.variant == v && m.row.per_s > 0.0)
    };
    let mut lines = Vec::new();
    let pairs = [
        (Variant::BatchNewPoolEach, Variant::BatchOnePool, "threads"),
        (
            Variant::ProcessBatchNewPoolEach,
            Variant::ProcessBatchOnePool,
            "processes",
        ),
    ];
    for (new, one, on) in pairs {
        if let (Some(new), Some(one)) = (find(new), find(one)) {
            let per_batch = (new.row.wall_s - one.row.wall_s) / setup.batches as f64;
            lines.push(format!(
                "batching on {on}: one pool for all batches is {} a new pool per batch; a new pool costs {} per batch",
                compare(one.row.per_s, new.row.per_s),
                fmt_ns(per_batch.max(0.0) * 1e9),
            ));
        }
    }
    let start = find(Variant::ProcessPool).and_then(|m| m.outcome.pool_start);
    if let (None, Some(start)) = (find(Variant::ProcessBatchNewPoolEach), start) {
        lines.push(format!(
            "batching with processes, as the tutorial does: {} batches x {} process-pool start = {} more",
            setup.batches,
            fmt_ns(start.as_secs_f64() * 1e9),
            fmt_ns(start.as_secs_f64() * setup.batches as f64 * 1e9),
        ));
    }
    lines.extend(rate_verdicts(&find, setup));
    lines
}

/// What chunking, tuning and processes do to the rate, and the yardstick.
fn rate_verdicts<'a>(
    find: &impl Fn(Variant) -> Option<&'a Measured>,
    setup: &Setup,
) -> Vec<String> {
    let overhead = |m: &Measured| fmt_ns(m.outcome.overhead_ns.max(0.0));
    let mut lines = Vec::new();
    let chunked = find(Variant::ThreadPoolChunked);
    if let (Some(single), Some(chunked)) = (find(Variant::ThreadPool), chunked) {
        lines.push(format!(
            "chunking: chunks of {} are {} one item a job",
            setup.chunk,
            compare(chunked.row.per_s, single.row.per_s)
        ));
    }
    let tuned = find(Variant::ThreadPoolTuned);
    if let (Some(chunked), Some(tuned)) = (chunked, tuned) {
        lines.push(format!(
            "tuning: the tuned dispatch is {} the plain chunked map at the same chunk",
            compare(tuned.row.per_s, chunked.row.per_s)
        ));
    }
    if let Some(rayon) = find(Variant::Rayon) {
        for ours in [tuned, chunked].into_iter().flatten() {
            lines.push(format!(
                "yardstick: {} runs at {:.2}x rayon's rate ({} vs {} overhead per task)",
                ours.row.variant,
                ours.row.per_s / rayon.row.per_s,
                overhead(ours),
                overhead(rayon),
            ));
        }
    }
    if let (Some(processes), Some(threads)) = (find(Variant::ProcessPool), chunked) {
        lines.push(format!(
            "processes: the process pool is {} the thread pool at the same chunk (text over pipes)",
            compare(processes.row.per_s, threads.row.per_s)
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
