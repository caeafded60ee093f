//! Step 2: a pool of threads; `submit` queues a task and returns a handle to claim its result.
//!
//! Since step 1 (Python: `ThreadPoolExecutor(max_workers).submit(f)`): `max_workers` threads
//! take tasks from one waiting line, run each through step 1's [`run_caught`], and report every
//! task's end into one shared channel the moment it ends. The line is a `Mutex` and a `Condvar`
//! (`crate::plumbing::queue`), not a channel: step 4 empties it and step 5 reorders it, which a
//! channel cannot do. The channel's receiving end is kept in [`Completions`], which step 3
//! reads.

// ANCHOR: pattern
use std::collections::HashMap;
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender};

use super::s1_errors::run_caught;
use crate::plumbing::queue::{Queued, WaitingLine};
use crate::task::{Completion, Handle, TaskId};

/// Worker threads are named this plus their number, so a panic hook can tell them apart.
pub const WORKER_NAME: &str = "executor-worker-";

/// Worker threads died outside any task (step 1 catches a task's panic, so this is a bug).
#[derive(Debug, thiserror::Error)]
#[error("{count} executor worker thread(s) panicked")]
pub struct WorkersPanicked {
    /// How many.
    pub count: usize,
}

/// The receiving end of an executor's completion channel, plus the completions that arrived
/// while the caller waited for other tasks, kept until someone asks for them (step 3).
#[derive(Debug)]
pub struct Completions {
    /// Every worker holds a `Sender` clone of this channel.
    pub(crate) rx: Receiver<Completion>,
    /// Completions received for tasks the current `as_completed` was not asked about.
    pub(crate) early: HashMap<TaskId, Completion>,
}

impl Completions {
    /// Wraps the receiving end of a completion channel.
    pub fn new(rx: Receiver<Completion>) -> Self {
        Self {
            rx,
            early: HashMap::new(),
        }
    }
}

/// A thread pool with `submit`, handles and `as_completed`, like Python's `ThreadPoolExecutor`.
pub struct Executor {
    /// Tasks waiting for a worker.
    pub(crate) line: Arc<WaitingLine>,
    /// One join handle per worker thread, joined on shutdown.
    workers: Vec<JoinHandle<()>>,
    /// The receiving end of the workers' channel: step 3 reads it.
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
        // Step 1: an `Err` or a panic becomes the task's outcome, and this thread carries on.
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
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::TaskError;

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

    #[test]
    fn errors_and_panics_arrive_as_err_and_the_worker_survives() {
        let mut ex = Executor::new(1).unwrap();
        let failing = ex.submit(|| Err("no".to_string()));
        let panicking = ex.submit(|| panic!("boom"));
        let fine = ex.submit(|| Ok(7));
        let mut outcomes: Vec<_> = ex
            .as_completed(vec![failing, panicking, fine])
            .map(|c| (c.id, c.outcome))
            .collect();
        outcomes.sort_by_key(|(id, _)| *id);
        assert_eq!(outcomes[0].1, Err(TaskError::Failed("no".into())));
        assert_eq!(outcomes[1].1, Err(TaskError::Panicked("boom".into())));
        assert_eq!(outcomes[2].1, Ok(7));
    }
}
