//! What every step says about a task: its number, the claim ticket for it, and how it ended.
//! Vocabulary rather than pattern, so it sits apart from the steps and imports none of them:
//! step 1 turns a task's `Err` or panic into a [`TaskError`], step 2 hands out [`Handle`]s,
//! step 4 cancels, step 7 loses a worker, and each reports a [`Completion`].

/// A task's number, given in submission order (0, 1, 2, ...).
pub type TaskId = u64;

/// What a thread executor runs: any closure returning a value or an error message.
pub type Task = Box<dyn FnOnce() -> Result<u64, String> + Send + 'static>;

// ANCHOR: handle
/// The claim ticket for one submitted task.
///
/// Not `Clone` and not `Copy` on purpose: `as_completed` takes handles by value, so a task's
/// result can be claimed once, and the compiler helps count every task exactly once (Python's
/// futures can be waited on twice and counted twice).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Handle {
    id: TaskId,
}

impl Handle {
    /// A handle for task `id`: only executors make them.
    pub(crate) fn new(id: TaskId) -> Self {
        Self { id }
    }

    /// The task's number.
    pub fn id(&self) -> TaskId {
        self.id
    }
}

/// One task's end, as a worker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// Which task.
    pub id: TaskId,
    /// The order workers took tasks in (0 = first), or `None` if it never started.
    pub start_rank: Option<u64>,
    /// The task's value, or why there is none.
    pub outcome: Result<u64, TaskError>,
}
// ANCHOR_END: handle

// ANCHOR: task_error
/// Why a task has no value: every way a task can end without one, each named by the step that
/// brings it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The task returned `Err` with this message (step 1).
    #[error("failed: {0}")]
    Failed(String),
    /// The task panicked; the worker caught it and carries on (step 1).
    #[error("panicked: {0}")]
    Panicked(String),
    /// The task never started: pending work was cancelled (step 4).
    #[error("cancelled before it started")]
    Cancelled,
    /// The worker process running the task died (killed, crashed) or was killed for a reply it
    /// could not have sent; the message says how (step 7).
    #[error("worker lost: {0}")]
    WorkerLost(String),
}
// ANCHOR_END: task_error
