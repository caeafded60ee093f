//! The `priority` variant (step 5): tasks submitted with priorities start highest first once
//! they have to wait for a worker, whatever `as_completed` reports afterwards.

use timing::{Mechanism, Stopwatch};

use super::faults::gated_start;
use super::tally::Tally;
use super::{Measured, Outcome};
use crate::job::Job;
use crate::steps::s2_submit::Executor;
use crate::task::{Handle, TaskId};

/// The three levels the `priority` variant cycles through, in submission order: low, high,
/// normal, low, high, normal, ...
pub const LEVELS: [i32; 3] = [0, 2, 1];

/// How many prioritised tasks per worker the `priority` variant submits.
pub const TASKS_PER_WORKER: u64 = 4;

/// `priority`: tasks submitted with priorities start highest first once they have to wait.
///
/// Every worker is first held by a gated task, so the prioritised tasks all queue up; then the
/// gate opens. The row's `start_order` must equal the submission order stably sorted by
/// priority, highest first (computed here independently, with a sort), and its
/// `completion_order` shows the same order, give or take tasks running side by side. The row
/// counts every task submitted, the holders too (`workers` + [`TASKS_PER_WORKER`] × `workers`),
/// as the Python twin does.
pub fn priority(workers: usize) -> anyhow::Result<Measured> {
    let w = workers as u64;
    let mut executor = Executor::new(workers)?;
    let watch = Stopwatch::start();
    // The gated tasks go in with the top priority so that none of them is overtaken.
    let (gate, gated) = gated_start(&mut executor, 0..w, i32::MAX)?;
    let levels: Vec<(TaskId, i32)> = (w..w + TASKS_PER_WORKER * w)
        .map(|x| (x, LEVELS[(x - w) as usize % LEVELS.len()]))
        .collect();
    let handles: Vec<Handle> = levels
        .iter()
        .map(|&(x, level)| {
            executor.submit_with_priority(level, move || Job::Square { x, sleep_ms: 5 }.run())
        })
        .collect();
    // Every worker is held, so all of them are queued now: let the workers go.
    drop(gate);
    let mut tally = Tally::default();
    let mut started: Vec<(u64, TaskId)> = Vec::new();
    for done in executor.as_completed(gated.into_iter().chain(handles).collect()) {
        if let (Some(rank), true) = (done.start_rank, done.id >= w) {
            started.push((rank, done.id));
        }
        tally.record(done);
    }
    let wall = watch.elapsed();
    executor.shutdown()?;

    started.sort_unstable();
    let start_order: Vec<TaskId> = started.into_iter().map(|(_, id)| id).collect();
    let want = highest_first(&levels);
    let submitted = w + TASKS_PER_WORKER * w;
    let priorities: Vec<i32> = levels.iter().map(|&(_, l)| l).collect();
    let row = tally
        .row("priority", Mechanism::Threads, workers, submitted)
        .require(start_order == want && tally.failed.is_empty())
        .items(submitted)
        .wall(wall)
        .extra("start_order", start_order.clone())
        .extra("priorities", priorities.clone())
        .note(format!(
            "{w} tasks held the workers while {} queued; those started highest priority first",
            TASKS_PER_WORKER * w
        ));
    Ok(Measured {
        row,
        counts: tally.counts(submitted),
        outcome: Outcome::Priority {
            start_order,
            priorities,
        },
    })
}

/// The ids of `levels` stably sorted by level, highest first: the order the queue must start
/// them in, computed without the queue.
fn highest_first(levels: &[(TaskId, i32)]) -> Vec<TaskId> {
    let mut want = levels.to_vec();
    // `sort_by_key` is stable: equal levels keep submission order, as each level's line does.
    want.sort_by_key(|&(_, level)| std::cmp::Reverse(level));
    want.into_iter().map(|(id, _)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_worker_starts_high_then_normal_then_low() {
        let row = priority(1).unwrap().row;
        assert!(row.correct, "{}", row.to_json());
        // Ids 1..=4 were submitted with levels 0, 2, 1, 0.
        assert_eq!(row.extra["start_order"], serde_json::json!([2, 3, 1, 4]));
    }
}
