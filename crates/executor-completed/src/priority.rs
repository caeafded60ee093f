//! Task priority, done for real: the tutorial says `as_completed` gives "control over task
//! priority". It does not. `as_completed` only *reports* tasks in the order they finish; it has
//! no say in which task starts. Priority has to act earlier, where tasks wait for a worker: here,
//! the thread executor's queue keeps one first-in first-out line per priority level (the `queue`
//! module), and `submit_with_priority` decides the order in which waiting tasks start. It
//! matters only when more tasks wait than workers are free: a task submitted to an idle worker
//! starts at once, whatever its priority.

use timing::{Row, Stopwatch};

use crate::completion::{Handle, TaskId};
use crate::faults::gated_start;
use crate::job::Job;
use crate::tally::Tally;
use crate::threads::Executor;

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
/// `completion_order` shows the same order, give or take tasks running side by side.
pub fn priority(workers: usize) -> anyhow::Result<Row> {
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
    let mut want = levels.clone();
    // `sort_by_key` is stable: equal levels keep submission order, as each level's line does.
    want.sort_by_key(|&(_, level)| std::cmp::Reverse(level));
    let want: Vec<TaskId> = want.into_iter().map(|(id, _)| id).collect();
    let submitted = w + TASKS_PER_WORKER * w;
    Ok(tally
        .row("priority", workers, submitted)
        .require(start_order == want && tally.failed.is_empty())
        .items(submitted)
        .wall(wall)
        .extra("start_order", start_order)
        .extra(
            "priorities",
            levels.iter().map(|&(_, l)| l).collect::<Vec<i32>>(),
        )
        .note("queued tasks started highest priority first; as_completed only reports"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_worker_starts_high_then_normal_then_low() {
        let row = priority(1).unwrap();
        assert!(row.correct, "{}", row.to_json());
        // Ids 1..=4 were submitted with levels 0, 2, 1, 0.
        assert_eq!(row.extra["start_order"], serde_json::json!([2, 3, 1, 4]));
    }
}
