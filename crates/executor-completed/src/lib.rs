//! An executor: `submit` a task and get a handle, then collect results with `as_completed` in
//! the order tasks finish, on threads ([`Executor`]) or on worker processes
//! ([`ProcessExecutor`]), like Python's `concurrent.futures`. Every worker sends each task's
//! [`Completion`] into one channel the moment the task ends, so "as completed" is "as
//! received". Errors, panics, a deadline and cancelled work all come back as results, so every
//! submitted task is accounted for once.
//!
//! # The steps, in reading order
//!
//! 1. [`steps::s1_errors`]: a task's error or panic is a value, so its worker lives on.
//! 2. [`steps::s2_submit`]: a pool of threads; `submit` returns a handle.
//! 3. [`steps::s3_as_completed`]: results in the order tasks finish.
//! 4. [`steps::s4_deadline_cancel`]: stop waiting at a deadline; cancel what has not started.
//! 5. [`steps::s5_priority`]: priority lives in the line tasks wait in.
//! 6. [`steps::s6_worker_process`]: tasks as data, served by this program re-executed.
//! 7. [`steps::s7_process_pool`]: the same `submit` / `as_completed` over worker processes.
//!
//! [`task`] and [`job`] hold what every step names; `plumbing` the waiting line, the pipe
//! formats and a worker process's feeder and reader; [`measure`] runs and times each variant and
//! [`verdict`] says what the numbers mean.
//!
//! Read: `book/src/executor-completed.md` (the chapter: the Python original, each step, what the
//! run shows).
//! Copy: `examples/executor_completed.rs` (steps 1 to 3 in one file: a thread pool with `submit`
//! and `as_completed`).
//! Run: `cargo run --release -p executor-completed`.

pub mod job;
mod plumbing;
pub mod steps;
pub mod task;

pub mod measure;
pub mod verdict;
pub mod worker_fault;

pub use job::Job;
pub use steps::s2_submit::{Completions, Executor, WorkersPanicked};
pub use steps::s3_as_completed::AsCompleted;
pub use steps::s7_process_pool::ProcessExecutor;
pub use task::{Completion, Handle, Task, TaskError, TaskId};

/// The lesson's name, as its binary and its JSON rows spell it.
pub const LESSON: &str = "executor-completed";
