//! The as-completed variant on threads (steps 2 and 3), and what both as-completed variants share
//! (the process one is in `processes`): uneven tasks finishing out of submission order, then
//! many trivial tasks to measure what `submit` + `as_completed` costs per task.

use std::time::Duration;

use crossbeam_channel::Receiver;
use timing::{Mechanism, Row, Stopwatch};

use super::tally::Tally;
use super::{Measured, Outcome};
use crate::job::Job;
use crate::steps::s2_submit::Executor;
use crate::task::{Handle, TaskId};

/// How many uneven tasks the completion-order demo submits.
pub const DEMO_TASKS: u64 = 8;

/// How long demo task `id` sleeps: 160 ms, 80, 40, 20, then 10 ms. The first is the longest, so
/// with two or more workers the later, shorter tasks finish before it.
pub fn demo_sleep_ms(id: u64) -> u64 {
    (160u64 >> id.min(63)).max(10)
}

/// The sum of `id²` over ids `0..n`, in closed form: (n-1)·n·(2n-1)/6.
pub fn sum_of_squares_below(n: u64) -> u128 {
    let n = u128::from(n);
    if n == 0 {
        0
    } else {
        (n - 1) * n * (2 * n - 1) / 6
    }
}

/// `threads-as-completed`: Python's `ThreadPoolExecutor` + `as_completed`, on `workers` threads.
///
/// Eight tasks of decreasing length are submitted, and `as_completed` yields them as they
/// finish: the row's `completion_order` differs from submission order whenever there are two or
/// more workers. Then `tasks` trivial tasks are submitted and collected the same way; the row's
/// wall time and rate are that second part (items = `tasks`).
///
/// Task 0, the longest, also waits at a gate that opens when the first other task comes back,
/// so it is never first even on a loaded machine, where a 160 ms sleep promises nothing against
/// an 80 ms one (the obvious version, sleeps alone, can show submission order when the
/// scheduler delays the second worker). With one worker there is no gate: task 0 would hold the
/// only worker and wait for tasks that can never run.
pub fn threads_as_completed(workers: usize, tasks: u64) -> anyhow::Result<Measured> {
    let mut executor = Executor::new(workers)?;
    let mut tally = Tally::default();
    // A channel nobody sends on is a gate: `recv` returns once the sender is dropped.
    let (gate_tx, gate_rx) = crossbeam_channel::bounded::<()>(0);
    let mut gate = (workers > 1).then_some(gate_tx);
    let demo = submit_uneven(&mut executor, gate.as_ref().map(|_| gate_rx));
    executor.as_completed(demo).for_each(|done| {
        tally.record(done);
        gate.take();
    });

    let watch = Stopwatch::start();
    // The ids go on from where the demo stopped, and every task's input is its id.
    let handles: Vec<Handle> = (DEMO_TASKS..DEMO_TASKS + tasks)
        .map(|x| executor.submit(move || Ok(x * x)))
        .collect();
    executor
        .as_completed(handles)
        .for_each(|done| tally.record(done));
    let wall = watch.elapsed();
    executor.shutdown()?;
    let row = tally.row(
        "threads-as-completed",
        Mechanism::Threads,
        workers,
        DEMO_TASKS + tasks,
    );
    Ok(finish(row, &tally, (tasks, wall), &[], (None, 0)))
}

/// Submits the eight uneven demo tasks; task 0 also waits at `gate`, when there is one, after
/// its sleep.
fn submit_uneven(executor: &mut Executor, gate: Option<Receiver<()>>) -> Vec<Handle> {
    (0..DEMO_TASKS)
        .map(|x| {
            let gate = gate.clone().filter(|_| x == 0);
            executor.submit(move || {
                let value = Job::Square {
                    x,
                    sleep_ms: demo_sleep_ms(x),
                }
                .run();
                if let Some(gate) = gate {
                    // `Err` is how a gate opens (its sender dropped): nothing to report.
                    let _ = gate.recv();
                }
                value
            })
        })
        .collect()
}

/// Finishes an as-completed variant: exactly the `want_failed` tasks failed, the others'
/// squares add up to the closed form, the rate is the trivial tasks' (`tasks` in `wall`), and
/// the demo's order, the first [`DEMO_TASKS`] completions, is shown, with the tasks that failed
/// and the worker processes replaced (`window` and `replaced`: the process pool's).
pub(super) fn finish(
    row: Row,
    tally: &Tally,
    (tasks, wall): (u64, Duration),
    want_failed: &[TaskId],
    (window, replaced): (Option<usize>, usize),
) -> Measured {
    let demo_order: Vec<TaskId> = tally
        .completion_order
        .iter()
        .copied()
        .take(DEMO_TASKS as usize)
        .collect();
    let sum: u128 = tally.finished.iter().map(|&(_, v)| u128::from(v)).sum();
    let lost: u128 = want_failed.iter().map(|&id| u128::from(id * id)).sum();
    let want_sum = sum_of_squares_below(DEMO_TASKS + tasks) - lost;
    let mut failed = tally.failed.clone();
    failed.sort_unstable_by_key(|&(id, _)| id);
    let failed_ids: Vec<TaskId> = failed.iter().map(|&(id, _)| id).collect();
    let row = row
        .require(failed_ids == want_failed && sum == want_sum)
        .items(tasks)
        .wall(wall)
        .extra("completion_order", demo_order.clone())
        .note(format!(
            "check counts the {DEMO_TASKS} uneven tasks too; they {}",
            came_back(&demo_order, &failed_ids, replaced)
        ));
    Measured {
        row,
        counts: tally.counts(DEMO_TASKS + tasks),
        outcome: Outcome::AsCompleted {
            demo_order,
            window,
            failed,
            workers_replaced: replaced,
        },
    }
}

/// The demo's order in words: "finished [...]" when every task did, and otherwise which failed
/// (a task that failed came back, but did not finish); and how many workers were replaced.
pub(crate) fn came_back(demo_order: &[TaskId], failed: &[TaskId], replaced: usize) -> String {
    let mut words = if failed.is_empty() {
        let in_order = demo_order.windows(2).all(|w| w[0] < w[1]);
        let as_submitted = if in_order { " (as submitted)" } else { "" };
        format!("finished {demo_order:?}{as_submitted}")
    } else {
        format!("came back {demo_order:?}; failed: {}", some_ids(failed))
    };
    if replaced > 0 {
        words += &format!("; worker processes replaced: {replaced}");
    }
    words
}

/// `ids` as a list, the first eight only when there are more, with the count.
fn some_ids(ids: &[TaskId]) -> String {
    const SHOWN: usize = 8;
    if ids.len() <= SHOWN {
        return format!("{ids:?}");
    }
    let shown: Vec<String> = ids[..SHOWN].iter().map(ToString::to_string).collect();
    format!("[{}, ...] ({} in all)", shown.join(", "), ids.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_matches_a_loop() {
        for n in [0u64, 1, 2, 10, 1000] {
            let looped: u128 = (0..n).map(|i| u128::from(i * i)).sum();
            assert_eq!(sum_of_squares_below(n), looped);
        }
    }

    #[test]
    fn demo_lengths_decrease_to_a_floor() {
        let lengths: Vec<u64> = (0..DEMO_TASKS).map(demo_sleep_ms).collect();
        assert_eq!(lengths, vec![160, 80, 40, 20, 10, 10, 10, 10]);
    }

    #[test]
    fn a_failed_task_and_a_replaced_worker_are_named_not_counted_as_finished() {
        let order = [0, 2, 3, 1, 4, 5, 6, 7];
        let words = came_back(&order, &[0], 1);
        assert_eq!(
            words,
            "came back [0, 2, 3, 1, 4, 5, 6, 7]; failed: [0]; worker processes replaced: 1"
        );
        assert_eq!(came_back(&[0, 1], &[], 0), "finished [0, 1] (as submitted)");
        let many: Vec<TaskId> = (0..10).collect();
        assert!(
            came_back(&order, &many, 0)
                .ends_with("failed: [0, 1, 2, 3, 4, 5, 6, 7, ...] (10 in all)")
        );
    }

    #[test]
    fn threads_complete_out_of_order_and_account_for_everything() {
        for workers in [1, 2, 3] {
            let row = threads_as_completed(workers, 200).unwrap().row;
            assert!(row.correct, "{}", row.to_json());
            assert_eq!(row.expected, DEMO_TASKS + 200);
            let order = row.extra["completion_order"].as_array().unwrap();
            assert_eq!(order.len() as u64, DEMO_TASKS);
            // One worker runs them in submission order; with more, task 0 is never first.
            assert_eq!(order[0] == 0, workers == 1, "{order:?}");
        }
    }
}
