//! Checking a variant's results against the independent answer, and the row that reports it.

use timing::Row;

use crate::pool::TaskError;
use crate::task::expected_sum;
use crate::variants::{LESSON, Setup};

pub(crate) fn batch_row(
    setup: &Setup,
    variant: &str,
    results: &[Result<u64, TaskError>],
    wall: f64,
) -> Row {
    let n = setup.batches * setup.batch_size();
    checked(setup, variant, n, results, wall, &[])
        .extra("batches", setup.batches)
        .extra("batch_size", setup.batch_size())
        .extra("per_batch_s", wall / setup.batches as f64)
}

/// Checks `results` against the independent answer and builds the row with its rates.
///
/// `expected` is the closed form (or plain loop) over `1..=n` less the items a test flag was
/// told to break; the row is correct only if exactly those items failed and every other result
/// sits at its own item's position (the order `map` promises).
pub(crate) fn checked(
    setup: &Setup,
    variant: &str,
    n: u64,
    results: &[Result<u64, TaskError>],
    wall_s: f64,
    also_injected: &[u64],
) -> Row {
    let mut injected: Vec<u64> = setup
        .job
        .panic_at
        .into_iter()
        .chain(also_injected.iter().copied())
        .collect();
    injected.retain(|x| (1..=n).contains(x));
    injected.sort_unstable();
    let Tally {
        failed,
        in_order,
        sum,
    } = tally(setup, n, results);
    let per_task_s = wall_s * setup.workers as f64 / n.max(1) as f64;
    let overhead_ns = (per_task_s - setup.sequential_per_task_s) * 1e9;
    let speedup = setup.sequential_per_task_s * n as f64 / wall_s.max(1e-12);
    let mut note = format!("{} overhead per task", timing::fmt_ns(overhead_ns.max(0.0)));
    if let Some(err) = results.iter().find_map(|r| r.as_ref().err()) {
        note = format!("{note}; {} failed: {err}", failed.len());
    }
    Row::new(LESSON, variant)
        .workers(setup.workers)
        .items(n)
        .check(expected_sum(setup.job.task, n, &injected), sum)
        .require(failed == injected && in_order)
        .wall(std::time::Duration::from_secs_f64(wall_s))
        .note(note)
        .extra("task", setup.job.task.name())
        .extra("in_order", in_order)
        .extra("failed", failed.len())
        // The first few suffice to see which; a broken run must not print a million numbers.
        .extra(
            "failed_items",
            failed.into_iter().take(20).collect::<Vec<_>>(),
        )
        .extra("overhead_ns", overhead_ns)
        .extra("speedup", speedup)
        .extra("sequential_s", setup.sequential_per_task_s * n as f64)
}

/// What the results say, before comparing with the answer.
struct Tally {
    /// Items (values, 1-based) whose result is an error.
    failed: Vec<u64>,
    /// Every result is there and each `Ok` sits at its own item's position.
    in_order: bool,
    /// The wrapping sum of the `Ok` results.
    sum: u64,
}

fn tally(setup: &Setup, n: u64, results: &[Result<u64, TaskError>]) -> Tally {
    let failed = (1..=n)
        .zip(results)
        .filter(|(_, r)| r.is_err())
        .map(|(x, _)| x)
        .collect();
    // The task is the reference for each position, not the pool: what is tested is that the
    // pool put each item's result where that item was.
    let in_order = results.len() as u64 == n
        && (1..=n)
            .zip(results)
            .all(|(x, r)| r.as_ref().map_or(true, |&v| v == setup.job.task.apply(x)));
    let sum = results
        .iter()
        .flatten()
        .fold(0u64, |acc, &v| acc.wrapping_add(v));
    Tally {
        failed,
        in_order,
        sum,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{Job, Task};

    #[test]
    fn a_wrong_or_misplaced_result_is_caught() {
        let s = Setup {
            workers: 2,
            items: 4,
            chunk: 1,
            batches: 1,
            job: Job::new(Task::Square),
            kill_at: None,
            sequential_per_task_s: 1e-9,
        };
        let mut results: Vec<Result<u64, TaskError>> = (1..=4).map(|x| Ok(x * x)).collect();
        assert!(checked(&s, "v", 4, &results, 1.0, &[]).correct);
        results.swap(0, 1);
        assert!(!checked(&s, "v", 4, &results, 1.0, &[]).correct);
        results.swap(0, 1);
        results[2] = Err(TaskError::Lost);
        assert!(!checked(&s, "v", 4, &results, 1.0, &[]).correct);
    }
}
