//! One worker process seen from the parent (step 7): its feeder thread (jobs down its stdin, at
//! most `window` in flight), its reader thread (replies up its stdout into the completion
//! channel; the `reader` module), and what happens when it dies: its tasks are reported lost
//! and a replacement starts.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use super::reader::{InFlight, read_replies};
use super::wire;
use crate::job::Job;
use crate::task::{Completion, TaskError, TaskId};

/// Everything a feeder needs to reach the worker processes it manages.
pub(crate) struct Slot {
    /// This program, to re-execute as a worker.
    pub program: PathBuf,
    /// Starts one worker process running `program` (step 7's `spawn_worker`): handed in rather
    /// than imported, so this module needs no step and the re-exec stays in the step's body.
    pub spawn: fn(&Path) -> io::Result<Child>,
    /// Tasks a worker may have in flight.
    pub window: usize,
    /// The executor's completion channel.
    pub done_tx: Sender<Completion>,
    /// Start ranks: a shared counter, taken as a feeder takes a job (so ranks across workers
    /// are only roughly in queue order; the thread executor ranks under its queue lock).
    pub ranks: Arc<AtomicU64>,
    /// Counts dead workers replaced, for the executor to report.
    pub replaced: Arc<AtomicUsize>,
}

/// One running worker process, seen from its feeder.
struct Worker {
    /// Requests go here, buffered: flushed when the feeder would otherwise block.
    stdin: BufWriter<ChildStdin>,
    /// Shared with the reader: what the worker holds, and whether it is dead.
    in_flight: Arc<Mutex<InFlight>>,
    /// A bounded channel used as a semaphore: sending takes one of `window` credits, the reader
    /// receiving after each reply gives it back. When the reader exits, sending fails.
    credits: Sender<()>,
    /// The reader thread, which owns the `Child` and reaps it; joined by `finish`.
    reader: JoinHandle<()>,
}

impl Slot {
    /// Starts the first worker process here, so a program that cannot be run is an error now
    /// rather than a failed task later, then the feeder thread `n` that keeps it busy.
    pub fn start(self, n: usize, jobs: Receiver<(TaskId, Job)>) -> io::Result<JoinHandle<()>> {
        let worker = self.spawn_worker()?;
        std::thread::Builder::new()
            .name(format!("process-feeder-{n}"))
            .spawn(move || self.feed(worker, &jobs))
    }

    // ANCHOR: feed
    /// The feeder: hands jobs to its worker, replacing the worker when it dies.
    fn feed(self, mut worker: Worker, jobs: &Receiver<(TaskId, Job)>) {
        let mut held = None;
        loop {
            // A free place in the window first, then a job: a worker whose window is full must
            // not take a job off the shared queue that another, idle worker could start now.
            if worker.wait_for_room() {
                let next = held.take().or_else(|| next_job(jobs, &mut worker.stdin));
                let Some((id, job)) = next else { break };
                if worker.send(id, job, &self.ranks) {
                    continue;
                }
                held = Some((id, job));
            }
            // The worker is gone; its reader reported the tasks it had. A held job never
            // reached it, so it goes to the replacement.
            worker.finish();
            self.replaced.fetch_add(1, Ordering::Relaxed);
            match self.spawn_worker() {
                Ok(fresh) => worker = fresh,
                Err(err) => return self.fail_all(held, jobs, &err),
            }
        }
        worker.finish();
    }
    // ANCHOR_END: feed

    /// With no worker to be had, fail every job rather than leave `as_completed` waiting.
    fn fail_all(
        &self,
        held: Option<(TaskId, Job)>,
        jobs: &Receiver<(TaskId, Job)>,
        err: &io::Error,
    ) {
        for (id, _) in held.into_iter().chain(jobs.iter()) {
            let _ = self.done_tx.send(Completion {
                id,
                start_rank: None,
                outcome: Err(TaskError::WorkerLost(format!(
                    "no replacement worker could start: {err}"
                ))),
            });
        }
    }

    /// Starts one worker process and its reader thread.
    fn spawn_worker(&self) -> io::Result<Worker> {
        let mut child = (self.spawn)(&self.program)?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            unreachable!("both pipes were requested");
        };
        let in_flight = Arc::new(Mutex::new(InFlight::default()));
        let (credits, credits_rx) = crossbeam_channel::bounded(self.window);
        let (shared, done_tx) = (Arc::clone(&in_flight), self.done_tx.clone());
        let (pid, tracked) = (child.id(), reaper::pid_of(&child));
        let reader = std::thread::Builder::new()
            .name(format!("process-reader-{pid}"))
            .spawn(move || read_replies(child, stdout, &shared, &credits_rx, &done_tx));
        match reader {
            Ok(reader) => Ok(Worker {
                stdin: BufWriter::new(stdin),
                in_flight,
                credits,
                reader,
            }),
            // The child moved into the failed closure and was dropped, which neither kills nor
            // reaps it: do both by pid (still tracked, so the pid is still ours).
            Err(err) => {
                drop(stdin);
                reaper::kill(tracked);
                let _ = reaper::wait(tracked);
                Err(err)
            }
        }
    }
}

/// The next job; flushes what is buffered before blocking, or the worker would wait for tasks
/// sitting in our buffer while we wait for more work.
fn next_job(
    jobs: &Receiver<(TaskId, Job)>,
    stdin: &mut BufWriter<ChildStdin>,
) -> Option<(TaskId, Job)> {
    match jobs.try_recv() {
        Ok(job) => Some(job),
        Err(TryRecvError::Empty) => {
            // A failed flush means the worker died; the next send notices and replaces it.
            let _ = stdin.flush();
            jobs.recv().ok()
        }
        Err(TryRecvError::Disconnected) => None,
    }
}

impl Worker {
    /// Takes one of the window's credits, waiting for a reply if none is free. `false` means
    /// the worker is dead (its reader dropped the other end).
    fn wait_for_room(&mut self) -> bool {
        if self.credits.try_send(()).is_ok() {
            return true;
        }
        // Window full (or reader gone): push out what we buffered, or the replies we wait for
        // would never come, then wait.
        let _ = self.stdin.flush();
        self.credits.send(()).is_ok()
    }

    /// Writes one job to the worker (buffered). `false` means the worker is dead and the job
    /// was not given to it.
    fn send(&mut self, id: TaskId, job: Job, ranks: &AtomicU64) -> bool {
        {
            let mut in_flight = self
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if in_flight.dead {
                return false;
            }
            // Relaxed: the rank only has to be unique; nothing else is published through it.
            in_flight
                .tasks
                .push_back((id, ranks.fetch_add(1, Ordering::Relaxed)));
        }
        // Listed before written: if this write fails the worker is dying, and its reader will
        // report the task as lost with the others it had.
        let _ = self.stdin.write_all(wire::job_line(id, job).as_bytes());
        true
    }

    /// Closes the worker's stdin (it finishes what it has, then exits) and joins its reader,
    /// which reaps it.
    fn finish(self) {
        let Self {
            mut stdin, reader, ..
        } = self;
        let _ = stdin.flush();
        drop(stdin);
        // Nothing in the reader panics (its lock shrugs off poisoning); if it ever did, its
        // worker's tasks could go unreported, so say so loudly. `finish` runs inside the feeder
        // thread, which has nobody to return an error to.
        if reader.join().is_err() {
            eprintln!("error: a worker reader thread panicked");
        }
    }
}
