//! The executor on processes: the same `submit` / `as_completed` over worker processes, like
//! Python's `ProcessPoolExecutor`.
//!
//! Each worker process has two threads in the parent. Its *feeder* takes jobs from the shared
//! queue (a crossbeam channel: first come, first served, whichever worker is free) and writes them
//! down the worker's stdin; its *reader* reads the replies from the worker's stdout and sends them
//! into the shared completion channel. At most `window` tasks are in flight per worker:
//! - `window = 1` keeps a short task from queueing behind a long one inside a busy worker's pipe,
//!   which is what uneven tasks need (and what the completion-order demo shows);
//! - a larger window hides the pipe round trip for tiny tasks, many per `write`. Python's
//!   `ProcessPoolExecutor` makes a similar trade: it queues `max_workers + 1` calls ahead.
//!
//! A worker that dies (killed, crashed) is noticed by its reader at end-of-file: the tasks it had
//! taken fail with [`TaskError::WorkerLost`], and the feeder starts a replacement before the next
//! job. Not retried: a task that kills its worker would kill the next one too. (Python marks the
//! whole pool broken instead and fails every pending future: `BrokenProcessPool`.)

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::Sender;

use crate::completion::{AsCompleted, Completions, Handle, TaskId};
use crate::job::Job;
use crate::slot::Slot;

/// A pool of worker processes with `submit`, handles and `as_completed`.
pub struct ProcessExecutor {
    /// The shared job queue; dropping it tells the feeders to finish.
    jobs: Option<Sender<(TaskId, Job)>>,
    /// One feeder thread per worker slot; each joins its readers.
    feeders: Vec<JoinHandle<()>>,
    /// Where readers report; read by `as_completed`.
    completions: Completions,
    /// How many dead workers were replaced.
    replaced: Arc<AtomicUsize>,
    /// The next task's id.
    next_id: TaskId,
}

impl ProcessExecutor {
    /// Starts `max_workers` worker processes (this program, re-executed), each allowed `window`
    /// tasks in flight.
    pub fn new(max_workers: usize, window: usize) -> io::Result<Self> {
        let program = std::env::current_exe()?;
        let (jobs_tx, jobs_rx) = crossbeam_channel::unbounded();
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        let replaced = Arc::new(AtomicUsize::new(0));
        let ranks = Arc::new(AtomicU64::new(0));
        let mut executor = Self {
            jobs: Some(jobs_tx),
            feeders: Vec::new(),
            completions: Completions::new(done_rx),
            replaced: Arc::clone(&replaced),
            next_id: 0,
        };
        for n in 0..max_workers.max(1) {
            let slot = Slot {
                program: program.clone(),
                window: window.max(1),
                done_tx: done_tx.clone(),
                ranks: Arc::clone(&ranks),
                replaced: Arc::clone(&replaced),
            };
            // On `?`, dropping `executor` stops the feeders already started.
            executor.feeders.push(slot.start(n, jobs_rx.clone())?);
        }
        Ok(executor)
    }

    /// Queues `job` and returns its handle.
    pub fn submit(&mut self, job: Job) -> Handle {
        let id = self.next_id;
        self.next_id += 1;
        if let Some(jobs) = &self.jobs {
            // Feeders hold the receiver until `jobs` is dropped, which only `Drop` does.
            let _ = jobs.send((id, job));
        }
        Handle::new(id)
    }

    /// Yields `handles`' completions in the order the tasks finish.
    pub fn as_completed(&mut self, handles: Vec<Handle>) -> AsCompleted<'_> {
        self.completions.as_completed(handles)
    }

    /// Like [`as_completed`](Self::as_completed), but stops waiting at `deadline`.
    pub fn as_completed_until(
        &mut self,
        handles: Vec<Handle>,
        deadline: Instant,
    ) -> AsCompleted<'_> {
        self.completions.as_completed_until(handles, Some(deadline))
    }

    /// How many worker processes died and were replaced so far (see [`shutdown`](Self::shutdown)).
    pub fn workers_replaced(&self) -> usize {
        // Relaxed: a statistic read after the fact; the completions carry the real news.
        self.replaced.load(Ordering::Relaxed)
    }

    /// Runs what is queued, then stops every worker process and reaps it. Returns how many
    /// dead workers were replaced over the pool's life: only final once the feeders are joined,
    /// since a feeder replaces its worker after reporting the lost task.
    pub fn shutdown(mut self) -> anyhow::Result<usize> {
        self.stop_and_join()?;
        Ok(self.workers_replaced())
    }

    fn stop_and_join(&mut self) -> anyhow::Result<()> {
        drop(self.jobs.take());
        let mut lost = 0;
        for feeder in self.feeders.drain(..) {
            lost += usize::from(feeder.join().is_err());
        }
        anyhow::ensure!(lost == 0, "{lost} worker feeder thread(s) panicked");
        Ok(())
    }
}

impl Drop for ProcessExecutor {
    fn drop(&mut self) {
        if let Err(err) = self.stop_and_join() {
            eprintln!("error: {err}");
        }
    }
}
