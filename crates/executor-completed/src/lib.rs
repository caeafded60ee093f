//! An executor: `submit` a task, get a handle, and collect results with `as_completed` in the
//! order tasks finish, on threads or on worker processes. Errors, panics, a deadline and
//! cancelled work all come back as results, so every submitted task is accounted for once.
//!
//! # The Python original
//!
//! `concurrent.futures`: `with ProcessPoolExecutor(max_workers=4) as ex:`, `futures =
//! [ex.submit(f, x) for x in xs]`, `for fut in as_completed(futures): print(fut.result())`.
//! [`Executor`] (threads) and [`ProcessExecutor`] (this program re-executed as workers) have
//! the same shape. What differs in Rust: each worker sends every [`Completion`] into one
//! channel the moment a task ends, so `as_completed` is "receive from it", with no polling of
//! futures; a [`Handle`] is not `Clone`, so each result is claimed once; an error and a panic
//! are both values ([`TaskError`]) carrying the task's id; and threads run Rust in parallel (no
//! GIL), so the thread executor is not only for I/O. The tutorial also says `as_completed`
//! gives "control over task priority": it does not, and step 5 shows where priority lives.
//! `examples/python/executor_completed.py` runs the same variants for `just compare`.
//!
//! # What to watch for
//!
//! - `completion_order` in the as-completed rows differs from submission order `[0, 1, ..., 7]`:
//!   task 0 is the longest (on threads it also waits for another task to come back, so no busy
//!   machine can make it first).
//! - The rate of trivial tasks on threads against processes: a process task crosses two pipes,
//!   up to [`measure::THROUGHPUT_WINDOW`] per worker in one `write`.
//! - `check` counts every task submitted (the as-completed rows: the 8 uneven ones as well as
//!   the `--tasks` trivial ones the rate is over), ok only when each was counted once, as
//!   finished, failed, timed out or cancelled; the failed, timed-out and cancelled counts are
//!   what each variant set up.
//! - `start_order` in the `priority` row is sorted by priority, highest first.
//!
//! # Running it
//!
//! ```text
//! cargo run --release -p executor-completed
//! cargo run --release -p executor-completed -- --variant cancel --workers 4 --json
//! cargo run --release -p executor-completed -- --variant processes-as-completed --kill-worker-during 0
//! ```
//!
//! The last kills (SIGKILL) the worker process running demo task 0: that task fails, the worker
//! is replaced, the rest finish. Benchmark figures are in `docs/results.md`.
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
//! Then [`measure`] runs and times each variant and [`verdict`] says what the numbers mean.

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
