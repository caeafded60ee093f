//! Runs each variant on the executors of the steps, times it, and builds its row; keeps the
//! accounting (every submitted task counted once) and the demo's constants. The variants force
//! their orders with gates (a task that waits until the variant lets it go), never with sleeps
//! alone, so each row says the same thing on a loaded machine as on an idle one.

use timing::{Row, Stopwatch, check_duration, extrapolate, fmt_count};

use crate::steps::s2_submit::{Executor, WORKER_NAME};
use crate::task::{Handle, TaskError, TaskId};

mod as_completed;
mod faults;
mod priority;
mod processes;
mod tally;

pub(crate) use as_completed::came_back;
pub use as_completed::{DEMO_TASKS, demo_sleep_ms, sum_of_squares_below, threads_as_completed};
pub use faults::{DEADLINE_MS, ERROR_TASKS, FAILING_TASK, PANICKING_TASK, cancel, errors, timeout};
pub use priority::{LEVELS, TASKS_PER_WORKER, priority};
pub use processes::{DEMO_WINDOW, THROUGHPUT_WINDOW, processes_as_completed};
pub use tally::{Counts, Tally};

/// What the table's columns mean in this lesson, printed under it.
pub const LEGEND: &str = "items: the tasks the rate is over; check: tasks submitted, each counted \
                          once as finished, failed, timed out or cancelled (the as-completed \
                          rows: the 8 uneven demo tasks and the --tasks timed ones)";

/// A variant's row, with where its tasks ended up and what else it found, for the verdicts.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The row printed in the table and as JSON.
    pub row: Row,
    /// Every submitted task's end, counted.
    pub counts: Counts,
    /// What the variant showed, typed.
    pub outcome: Outcome,
}

/// What each variant showed, beyond the counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The as-completed variants: the order the uneven demo tasks finished in, and the jobs
    /// in flight per worker process in the timed part (`None` on threads).
    AsCompleted {
        /// Ids of the demo tasks, in the order `as_completed` yielded them.
        demo_order: Vec<TaskId>,
        /// Jobs per worker process in flight, for the process pool.
        window: Option<usize>,
        /// The tasks that came back without a value, by id, with why.
        failed: Vec<(TaskId, TaskError)>,
        /// Worker processes that died and were replaced (0 on threads).
        workers_replaced: usize,
    },
    /// `errors`: the counts say it all.
    Errors,
    /// `timeout`: how many timed-out tasks finished after the deadline.
    Timeout {
        /// Timed-out tasks that came back later.
        finished_late: usize,
    },
    /// `cancel`: the counts say it all.
    Cancel,
    /// `priority`: the order queued tasks started in, and their priorities in submission order.
    Priority {
        /// Task ids in the order workers took them.
        start_order: Vec<TaskId>,
        /// Each queued task's priority, in submission order.
        priorities: Vec<i32>,
    },
}

/// Trivial tasks the pilot run pushes through a thread pool to estimate a run's length.
const PILOT_TASKS: u64 = 2_000;

/// Estimates how long `runs` as-completed variants of `tasks` trivial tasks will take, from a
/// pilot run on threads, and refuses (exit 2) or announces a long one (`timing::check_duration`).
/// The process pool runs at a similar rate (many jobs per pipe write), so one pilot serves both.
pub fn check_length(workers: usize, tasks: u64, runs: u64) -> anyhow::Result<()> {
    if runs == 0 || tasks <= 10 * PILOT_TASKS {
        return Ok(()); // too short to be worth a pilot
    }
    let mut executor = Executor::new(workers)?;
    let ((), pilot) = Stopwatch::time(|| {
        let handles: Vec<Handle> = (0..PILOT_TASKS)
            .map(|x| executor.submit(move || Ok(x)))
            .collect();
        executor.as_completed(handles).for_each(drop);
    });
    executor.shutdown()?;
    let estimate = extrapolate(PILOT_TASKS, pilot, tasks * runs);
    check_duration(
        &format!("{} trivial tasks on each executor", fmt_count(tasks)),
        estimate,
        "pass a smaller --tasks",
    )
}

/// Replaces the panic message of a task on an executor thread with one line (no backtrace, even
/// with `RUST_BACKTRACE` set): step 1 catches such a panic and makes it the task's `Err`, so it
/// is news, not a crash. Panics anywhere else still go to the default hook.
pub fn brief_task_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        if thread
            .name()
            .is_some_and(|name| name.starts_with(WORKER_NAME))
        {
            let place = info.location().map(ToString::to_string).unwrap_or_default();
            let msg = info.payload_as_str().unwrap_or(reaper::NO_MESSAGE);
            eprintln!(
                "note: a task panicked at {place}: {msg} (caught: it becomes the task's Err)"
            );
        } else {
            default(info);
        }
    }));
}
