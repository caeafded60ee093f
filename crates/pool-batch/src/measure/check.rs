//! Checking a variant's results against the independent answer, and the row that reports it;
//! and the sequential cost per task that the overhead is measured against.

use std::hint::black_box;
use std::time::Duration;

use timing::Stopwatch;

use super::{Measured, Outcome, Setup, Timed, Variant, row};
use crate::steps::TaskError;
use crate::task::{Task, answer, expected_sum};

/// Checks `timed.results` against the independent answer and builds the row with its rates.
///
/// The expected sum is the closed form over the variant's items less the items a test flag was
/// told to break (`--panic-at`, and `also_injected`); the row is correct only if exactly those
/// items failed and every other result sits at its own item's position (the order `map`
/// promises).
pub(super) fn checked(
    setup: &Setup,
    variant: Variant,
    timed: Timed,
    also_injected: &[u64],
    pool_start: Option<Duration>,
) -> Measured {
    let n = setup.items_of(variant);
    let injected = injected(setup, n, also_injected);
    let Timed { results, wall } = timed;
    let tally = tally(setup.job.task, n, &results);
    let wall_s = wall.as_secs_f64();
    let per_task_s = wall_s * setup.workers as f64 / n.max(1) as f64;
    let overhead_ns = (per_task_s - setup.sequential_per_task_s) * 1e9;
    let mut note = format!("{} overhead per task", timing::fmt_ns(overhead_ns.max(0.0)));
    if let Some(err) = results.iter().find_map(|r| r.as_ref().err()) {
        note = format!("{note}; {} failed: {err}", tally.failed.len());
    }
    let correct = tally.failed == injected && tally.in_order;
    // The first few failed items suffice to see which; a broken run must not print a million.
    let first_failed: Vec<u64> = tally.failed.iter().take(20).copied().collect();
    let row = row(variant, setup)
        .items(n)
        .check(expected_sum(setup.job.task, n, &injected), tally.sum)
        .require(correct)
        .wall(wall)
        .note(note)
        .extra("task", setup.job.task.name())
        .extra("in_order", tally.in_order)
        .extra("failed", tally.failed.len())
        .extra("failed_items", first_failed)
        .extra("overhead_ns", overhead_ns)
        .extra(
            "speedup",
            setup.sequential_per_task_s * n as f64 / wall_s.max(1e-12),
        )
        .extra("sequential_s", setup.sequential_per_task_s * n as f64);
    let outcome = Outcome {
        variant,
        failed: tally.failed,
        overhead_ns,
        pool_start,
    };
    Measured { row, outcome }
}

/// The items a test flag broke, among `1..=n`: `--panic-at`, and `also` (a killed worker's).
fn injected(setup: &Setup, n: u64, also: &[u64]) -> Vec<u64> {
    let mut injected: Vec<u64> = setup
        .job
        .panic_at
        .into_iter()
        .chain(also.iter().copied())
        .collect();
    injected.retain(|x| (1..=n).contains(x));
    injected.sort_unstable();
    injected.dedup();
    injected
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

fn tally(task: Task, n: u64, results: &[Result<u64, TaskError>]) -> Tally {
    let failed = (1..=n)
        .zip(results)
        .filter(|(_, r)| r.is_err())
        .map(|(x, _)| x)
        .collect();
    // Each position is checked against that item's own answer, computed apart from the pool:
    // what is tested is that the pool put each item's result where that item was.
    let right = answer(task);
    let in_order = results.len() as u64 == n
        && (1..=n)
            .zip(results)
            .all(|(x, r)| r.as_ref().map_or(true, |&v| v == right(x)));
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

/// Seconds one thread needs per task of `task` over `items` with no pool at all: the cost the
/// per-task overhead is measured against. Runs items until about 50 ms are spent (or all are
/// done), so a heavy `--work` does not make every run pay a full sequential pass.
pub fn sequential_per_task(task: Task, items: &[u64]) -> f64 {
    const BUDGET: Duration = Duration::from_millis(50);
    let watch = Stopwatch::start();
    let (mut done, mut block, mut sum) = (0usize, 1usize, 0u64);
    // Blocks that double in size: a 10-ms task is checked against the clock after one item, a
    // 1-ns task is not slowed by reading the clock after every item.
    while done < items.len() {
        let end = (done + block).min(items.len());
        // `black_box` keeps the optimiser from vectorising the loop away, which it could not
        // do through a pool either: the baseline is the same per-item calls, without dispatch.
        for &x in &items[done..end] {
            sum = sum.wrapping_add(task.apply(black_box(x)));
        }
        done = end;
        block *= 2;
        if watch.elapsed() >= BUDGET {
            break;
        }
    }
    black_box(sum);
    watch.elapsed().as_secs_f64() / done.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::Job;

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
        let check = |results: &[Result<u64, TaskError>]| {
            let timed = Timed {
                results: results.to_vec(),
                wall: Duration::from_millis(1),
            };
            checked(&s, Variant::ThreadPool, timed, &[], None)
        };
        let mut results: Vec<Result<u64, TaskError>> = (1..=4).map(|x| Ok(x * x)).collect();
        let m = check(&results);
        assert!(m.row.correct);
        assert_eq!(m.row.mechanism, Some(timing::Mechanism::Threads));
        results.swap(0, 1);
        assert!(!check(&results).row.correct);
        results.swap(0, 1);
        results[2] = Err(TaskError::Lost);
        let m = check(&results);
        assert!(!m.row.correct);
        assert_eq!(m.outcome.failed, [3]);
    }
}
