//! The lesson, one step a file, in reading order. Each step is an `async fn` that spawns its tasks
//! onto the runtime it is awaited on and returns what they computed; the runtime comes from
//! [`runtime`], and the heartbeat and the timing live in [`crate::measure`], never here.
//!
//! 1. [`s1_io_gather`]: many requests in flight at once, gathered from a `JoinSet`.
//! 2. [`s2_cpu_inline`]: a CPU step after each request, on the runtime (deliberately stalls it).
//! 3. [`s3_spawn_blocking`]: the CPU step on tokio's blocking pool, a semaphore bounding it.
//! 4. [`s4_rayon`]: the CPU step on a rayon pool, its answer back through a oneshot.
//! 5. [`s5_wait_tasks`]: waits alone, as many tasks asleep at once on timers.
//! 6. [`s6_wait_threads`]: the same waits as OS threads, each blocked in `thread::sleep`.

use tokio::runtime::Runtime;
use tokio::task::JoinError;

pub mod s1_io_gather;
pub mod s2_cpu_inline;
pub mod s3_spawn_blocking;
pub mod s4_rayon;
pub mod s5_wait_tasks;
pub mod s6_wait_threads;

// ANCHOR: runtime
/// Builds the multi-threaded runtime a step runs on, with `workers` worker threads.
///
/// Built by hand rather than with `#[tokio::main]` so the reader sees what the macro hides: a
/// fixed number of worker threads polling tasks (the event loop, one per core by default), a
/// separate pool of blocking threads that `spawn_blocking` starts on demand, and the I/O and
/// timer drivers switched on. Each step gets a fresh runtime, so one step's leftovers cannot
/// slow the next.
pub fn runtime(workers: usize) -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("async-worker")
        .enable_io()
        .enable_time()
        .build()
}
// ANCHOR_END: runtime

// ANCHOR: errors
/// Why a request or a task of a step failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The request failed: no connection, a timeout, an error status, a cut body.
    #[error(transparent)]
    Request(#[from] reqwest::Error),
    /// The body did not start with `item {n}`.
    #[error("no item number in {0:?}")]
    NoItemNumber(String),
    /// A task, or the CPU step it handed off, panicked.
    #[error("a {step} task panicked: {message}")]
    Panicked {
        /// The step whose task it was.
        step: &'static str,
        /// The panic's message.
        message: String,
    },
    /// The rayon pool dropped a CPU step without answering.
    #[error("the rayon pool dropped a CPU step")]
    Dropped,
}

/// A task's `JoinError` as a [`StepError`]: a panic with its message, never a silent loss.
pub fn panicked(step: &'static str, err: JoinError) -> StepError {
    let message = if err.is_panic() {
        reaper::panic_message(err.into_panic().as_ref())
    } else {
        // Nothing here cancels a task; a runtime shutting down under it would.
        "cancelled".to_string()
    };
    StepError::Panicked { step, message }
}
// ANCHOR_END: errors
