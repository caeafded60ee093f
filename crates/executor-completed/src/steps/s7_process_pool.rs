//! Step 7: the same executor on worker processes: `submit` and `as_completed` over pipes, like
//! Python's `ProcessPoolExecutor`.
//!
//! Since step 6: the parent's side. Each worker process (`spawn_worker`, below) has two
//! threads here (`crate::plumbing::feeder` and `reader`): its *feeder* takes jobs from one
//! shared queue (a channel: whichever worker is free takes the next) and writes them down the
//! worker's stdin; its *reader* sends each reply into a completion channel like step 2's, so
//! step 3's `as_completed` works unchanged. At most `window` jobs are in flight per worker:
//! - `window = 1` keeps a short task from queueing behind a long one in a busy worker's pipe,
//!   which uneven tasks need;
//! - a larger window hides the pipe round trip for tiny tasks, many per `write` (Python's
//!   `ProcessPoolExecutor` queues `max_workers + 1` calls ahead for the same reason).
//!
//! A worker that dies (killed, crashed) is noticed by its reader at end of file, and one that
//! sends a reply that cannot be trusted is killed by it: either way the jobs it had fail with
//! [`TaskError::WorkerLost`](crate::task::TaskError::WorkerLost), and its feeder starts a
//! replacement before the next job. Not retried: a job that kills its worker would kill the
//! next one too. (Python marks the whole pool broken instead and fails every pending future:
//! `BrokenProcessPool`.)

// ANCHOR: pattern
use std::io;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::Sender;

use super::s2_submit::{Completions, WorkersPanicked};
use super::s3_as_completed::AsCompleted;
use super::s6_worker_process::WORKER_ENV;
use crate::job::Job;
use crate::plumbing::feeder::Slot;
use crate::task::{Handle, TaskId};

/// A pool of worker processes with `submit`, handles and `as_completed`.
pub struct ProcessExecutor {
    /// The shared job queue; dropping it tells the feeders to finish.
    jobs: Option<Sender<(TaskId, Job)>>,
    /// One feeder thread per worker; each joins its worker's reader, which reaps the worker.
    feeders: Vec<JoinHandle<()>>,
    /// Where the readers report; read by `as_completed`.
    completions: Completions,
    /// How many dead workers were replaced.
    replaced: Arc<AtomicUsize>,
    /// The next task's id.
    next_id: TaskId,
}

impl ProcessExecutor {
    /// Starts `max_workers` worker processes (at least one), each allowed `window` jobs in
    /// flight (at least one).
    pub fn new(max_workers: usize, window: usize) -> io::Result<Self> {
        let program = std::env::current_exe()?;
        let (jobs_tx, jobs_rx) = crossbeam_channel::unbounded();
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        let mut executor = Self {
            jobs: Some(jobs_tx),
            feeders: Vec::new(),
            completions: Completions::new(done_rx),
            replaced: Arc::default(),
            next_id: 0,
        };
        let ranks = Arc::new(AtomicU64::new(0));
        for n in 0..max_workers.max(1) {
            let slot = Slot {
                program: program.clone(),
                spawn: spawn_worker,
                window: window.max(1),
                done_tx: done_tx.clone(),
                ranks: Arc::clone(&ranks),
                replaced: Arc::clone(&executor.replaced),
            };
            // The first worker process starts now, so a program that cannot run is an error
            // here rather than failed tasks later; on `?`, dropping `executor` stops the rest.
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

    /// Yields `handles`' completions in the order their jobs finish (step 3).
    pub fn as_completed(&mut self, handles: Vec<Handle>) -> AsCompleted<'_> {
        self.completions.as_completed(handles, None)
    }

    /// Like [`as_completed`](Self::as_completed), but stops waiting at `deadline` (step 4).
    pub fn as_completed_until(
        &mut self,
        handles: Vec<Handle>,
        deadline: Instant,
    ) -> AsCompleted<'_> {
        self.completions.as_completed(handles, Some(deadline))
    }

    /// How many worker processes died and were replaced so far.
    pub fn workers_replaced(&self) -> usize {
        // Relaxed: a statistic read after the fact; the completions carry the real news.
        self.replaced.load(Ordering::Relaxed)
    }

    /// Runs what is queued, then stops every worker process and reaps it. Returns how many dead
    /// workers were replaced over the pool's life: final only once the feeders are joined,
    /// since a feeder replaces its worker after the lost job is reported.
    pub fn shutdown(mut self) -> Result<usize, WorkersPanicked> {
        self.stop_and_join()?;
        Ok(self.workers_replaced())
    }

    fn stop_and_join(&mut self) -> Result<(), WorkersPanicked> {
        drop(self.jobs.take());
        let joined = self.feeders.drain(..).map(JoinHandle::join);
        let count = joined.filter(Result::is_err).count();
        if count == 0 {
            Ok(())
        } else {
            Err(WorkersPanicked { count })
        }
    }
}

impl Drop for ProcessExecutor {
    fn drop(&mut self) {
        if let Err(err) = self.stop_and_join() {
            eprintln!("error: {err}");
        }
    }
}

/// Starts one worker process: this program again, told by [`WORKER_ENV`] to serve jobs on its
/// stdin and stdout (step 6). The feeder calls it for its first worker and every replacement.
fn spawn_worker(program: &Path) -> io::Result<Child> {
    // Re-executed (Python's "spawn" start method) rather than forked: the parent has threads by
    // now, and a forked child of a threaded process may only call async-signal-safe functions
    // (no allocation, no locks) until it execs. A fresh process has none of that baggage, and
    // its only link to the parent is two pipes.
    let mut command = Command::new(program);
    command
        .env(WORKER_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // Tracked from its start, so a Ctrl-C ends it too; its reader thread reaps it.
    Ok(reaper::spawn(&mut command)?)
}
// ANCHOR_END: pattern
