//! Step 1: a pool of threads; `submit` queues a task and returns a handle to claim its result.
//!
//! The start (Python: `ThreadPoolExecutor(max_workers).submit(f)`): `max_workers` threads take
//! tasks from one waiting line, and each reports every task's end into one shared channel the
//! moment it ends. The line is a `Mutex` and a `Condvar` (`crate::plumbing::queue`), not a
//! channel: step 4 empties it and step 5 reorders it, which a channel cannot do.

use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crossbeam_channel::Sender;

use super::s2_as_completed::Completions;
use super::s3_errors::{TaskError, run_caught};
use crate::plumbing::queue::{Queued, WaitingLine};

/// A task's number, given in submission order (0, 1, 2, ...).
pub type TaskId = u64;

/// What a thread executor runs: any closure returning a value or an error message.
pub type Task = Box<dyn FnOnce() -> Result<u64, String> + Send + 'static>;

/// Worker threads are named this plus their number, so a panic hook can tell them apart.
pub const WORKER_NAME: &str = "executor-worker-";

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
    /// The task's value, or why there is none (step 3).
    pub outcome: Result<u64, TaskError>,
}

/// Worker threads died outside any task (step 3 catches a task's panic, so this is a bug).
#[derive(Debug, thiserror::Error)]
#[error("{count} executor worker thread(s) panicked")]
pub struct WorkersPanicked {
    /// How many.
    pub count: usize,
}

/// A thread pool with `submit`, handles and `as_completed`, like Python's `ThreadPoolExecutor`.
pub struct Executor {
    /// Tasks waiting for a worker.
    pub(crate) line: Arc<WaitingLine>,
    /// One join handle per worker thread, joined on shutdown.
    workers: Vec<JoinHandle<()>>,
    /// The receiving end of the workers' channel: step 2 reads it.
    pub(crate) completions: Completions,
    /// A sender of our own, to report the tasks no worker will see (cancelled, step 4).
    pub(crate) done_tx: Sender<Completion>,
    /// The next task's id.
    next_id: TaskId,
}

impl Executor {
    /// Starts `max_workers` threads (at least one).
    pub fn new(max_workers: usize) -> std::io::Result<Self> {
        // Unbounded: a worker must never block on reporting, or a slow reader would stall the
        // pool (a bounded channel would be a second, hidden limit on parallelism).
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        let mut executor = Self {
            line: Arc::new(WaitingLine::default()),
            workers: Vec::new(),
            completions: Completions::new(done_rx),
            done_tx,
            next_id: 0,
        };
        for n in 0..max_workers.max(1) {
            let (line, done_tx) = (Arc::clone(&executor.line), executor.done_tx.clone());
            // On `?`, dropping `executor` stops and joins the workers already started.
            let worker = thread::Builder::new()
                .name(format!("{WORKER_NAME}{n}"))
                .spawn(move || work(&line, &done_tx))?;
            executor.workers.push(worker);
        }
        Ok(executor)
    }

    /// Queues `task` and returns its handle. Queued tasks start in submission order.
    pub fn submit(
        &mut self,
        task: impl FnOnce() -> Result<u64, String> + Send + 'static,
    ) -> Handle {
        let id = self.take_id();
        // Priority 0 for all: step 5 says what the number does.
        self.line.push(0, Queued::new(id, task));
        Handle::new(id)
    }

    /// The next task's id, taken.
    pub(crate) fn take_id(&mut self) -> TaskId {
        self.next_id += 1;
        self.next_id - 1
    }

    /// Runs what is queued, then stops the workers and joins them; a worker thread that died is
    /// an error rather than a silent loss.
    pub fn shutdown(mut self) -> Result<(), WorkersPanicked> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), WorkersPanicked> {
        self.line.close();
        let joined = self.workers.drain(..).map(JoinHandle::join);
        let count = joined.filter(Result::is_err).count();
        if count == 0 {
            Ok(())
        } else {
            Err(WorkersPanicked { count })
        }
    }
}

impl Drop for Executor {
    /// Dropping waits for queued and running tasks, like leaving `with ThreadPoolExecutor():`.
    fn drop(&mut self) {
        if let Err(err) = self.stop_and_join() {
            eprintln!("error: {err}");
        }
    }
}

/// One worker thread: take the next task, run it, report its end; until the line is closed.
fn work(line: &WaitingLine, done_tx: &Sender<Completion>) {
    // `take` sleeps while the line is empty and returns `None` once it is closed and empty.
    while let Some((queued, rank)) = line.take() {
        // Step 3: an `Err` or a panic becomes the task's outcome, and this thread carries on.
        let outcome = run_caught(queued.task);
        let done = Completion {
            id: queued.id,
            start_rank: Some(rank),
            outcome,
        };
        // The executor holds the receiver until every worker is joined, so this cannot fail.
        let _ = done_tx.send(done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_number_tasks_in_submission_order_and_each_reports_once() {
        let mut ex = Executor::new(3).unwrap();
        let handles: Vec<Handle> = (0..100u64).map(|x| ex.submit(move || Ok(x * x))).collect();
        let ids: Vec<TaskId> = handles.iter().map(Handle::id).collect();
        assert_eq!(ids, (0..100).collect::<Vec<_>>());
        let mut seen: Vec<(TaskId, u64)> = ex
            .as_completed(handles)
            .map(|c| (c.id, c.outcome.unwrap()))
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..100).map(|x| (x, x * x)).collect::<Vec<_>>());
        ex.shutdown().unwrap();
    }
}
