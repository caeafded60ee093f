//! An executor: `submit` a task, get a handle, and collect results with `as_completed` in the
//! order tasks finish, on threads or on worker processes.
//!
//! **The Python original.** `concurrent.futures`: `with ProcessPoolExecutor(max_workers=4) as
//! ex:`, `futures = [ex.submit(f, x) for x in xs]`, `for fut in as_completed(futures):
//! print(fut.result())`. Here [`Executor`] (threads) and [`ProcessExecutor`] (this program
//! re-executed as workers) have the same shape: `new(max_workers)`, `submit(task) -> Handle`,
//! `as_completed(handles)`. What differs in Rust:
//! - every worker sends each [`Completion`] into one shared channel the moment a task ends, and
//!   `as_completed` is just "receive from it": no polling of futures;
//! - a [`Handle`] is not `Clone`: `as_completed` takes it by value, so each result is claimed
//!   once, and every variant accounts for every task exactly once (finished, failed, timed out or
//!   cancelled: `expected` = tasks submitted, `result` = the sum of the four counts);
//! - an error and a panic are both values ([`TaskError`]) carrying the task's id;
//! - threads run Rust in parallel (no GIL), so the thread executor is not just for I/O.
//!
//! The tutorial also claims `as_completed` gives "control over task priority". It does not: it
//! only reports completions, and has no say in what starts first. The `priority` variant shows
//! where priority really lives, in the queue tasks wait in ([`Executor::submit_with_priority`]).
//!
//! **Variants.** `threads-as-completed` and `processes-as-completed` (uneven tasks finishing out
//! of order, then the cost of `submit` + `as_completed` for trivial tasks), `errors`, `timeout`,
//! `cancel`, `priority` (on threads).
//!
//! **What to watch for.** `completion_order` differing from submission order `[0, 1, ..., 7]`
//! (task 0 is the longest; on threads it also waits until another task has come back, so no
//! busy machine can make it first); the rate of trivial tasks through threads against
//! processes (every process task crosses two pipes); the failed, timed-out and cancelled counts
//! matching what each variant set up; `start_order` in the `priority` row sorted by priority.
//!
//! Measured on two vCPUs (release, one run each, default sizes): trivial tasks through
//! `submit` + `as_completed` at 1.3 to 2.1 M/s on threads and 0.8 to 1.5 M/s on processes, where
//! the Python twin manages about 50 k/s (`ThreadPoolExecutor`) and 6 k/s
//! (`ProcessPoolExecutor`). Processes come close to threads because each pipe `write` carries up
//! to 64 tasks per worker ([`THROUGHPUT_WINDOW`]), while the thread pool pays a lock, and often a
//! wake-up, for every task.
//!
//! **Run it.** `cargo run --release -p executor-completed` (add `--json`, `--workers N`,
//! `--tasks N`, `--variant cancel`; `--kill-worker-during 0` kills a worker process mid-task).

mod completion;
mod demo;
mod faults;
mod job;
mod panics;
mod priority;
mod processes;
mod queue;
mod reader;
mod slot;
mod tally;
mod threads;
pub mod worker;

pub use completion::{AsCompleted, Completion, Completions, Handle, TaskError, TaskId};
pub use demo::{
    DEMO_TASKS, DEMO_WINDOW, THROUGHPUT_WINDOW, demo_sleep_ms, processes_as_completed,
    sum_of_squares_below, threads_as_completed,
};
pub use faults::{DEADLINE_MS, ERROR_TASKS, FAILING_TASK, PANICKING_TASK, cancel, errors, timeout};
pub use job::Job;
pub use panics::brief_task_panics;
pub use priority::{LEVELS, TASKS_PER_WORKER, priority};
pub use processes::ProcessExecutor;
pub use tally::Tally;
pub use threads::{Executor, Task};

/// The lesson's name, as every row spells it.
pub const LESSON: &str = "executor-completed";
