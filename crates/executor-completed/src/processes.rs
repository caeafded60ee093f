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

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use crate::completion::{AsCompleted, Completion, Completions, Handle, TaskError, TaskId};
use crate::job::Job;
use crate::worker::{WORKER_COMMAND, parse_reply};

/// Every live worker process's pid, so the Ctrl-C handler can kill them. A pid is added under
/// the lock in the same breath as the spawn, and removed *before* the child is reaped: while it
/// is listed it is alive or a zombie, never a recycled pid belonging to someone else.
static WORKER_PIDS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// On Ctrl-C (and SIGTERM, SIGHUP): kill and reap every worker process, then exit with 130.
///
/// A Ctrl-C typed in a terminal reaches the workers as well (they share the foreground process
/// group), but a signal sent to the parent alone does not; without this the workers would run
/// until their stdin closed, and nobody might reap them.
pub fn kill_workers_on_interrupt() -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(|| {
        // Held until exit, so no worker can be spawned or reaped behind our back.
        let pids = WORKER_PIDS.lock().unwrap_or_else(PoisonError::into_inner);
        for &pid in pids.iter() {
            // Errors mean it already exited (or was reaped): nothing left to do for it.
            let _ = kill(nix_pid(pid), Signal::SIGKILL);
            let _ = waitpid(nix_pid(pid), None);
        }
        eprintln!("interrupted: {} worker process(es) stopped", pids.len());
        std::process::exit(130);
    })
}

fn registry() -> std::sync::MutexGuard<'static, Vec<u32>> {
    // The list is a plain Vec, consistent even if a holder panicked: keep using it.
    WORKER_PIDS.lock().unwrap_or_else(PoisonError::into_inner)
}

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

/// What a feeder and a reader share about one live worker process.
#[derive(Default)]
struct InFlight {
    /// Tasks written to the worker and not yet answered, oldest first, with their start rank.
    tasks: VecDeque<(TaskId, u64)>,
    /// Set by the reader when the worker is gone; the feeder then starts a new one.
    dead: bool,
}

/// Everything a feeder needs to reach the worker processes it manages.
struct Slot {
    program: PathBuf,
    window: usize,
    done_tx: Sender<Completion>,
    /// Start ranks: a shared counter, taken as a feeder takes a job (so ranks across workers
    /// are only roughly in queue order; the thread executor ranks under its queue lock).
    ranks: Arc<AtomicU64>,
    replaced: Arc<AtomicUsize>,
}

/// One running worker process, seen from its feeder.
struct Worker {
    stdin: BufWriter<ChildStdin>,
    in_flight: Arc<Mutex<InFlight>>,
    /// A bounded channel used as a semaphore: sending takes one of `window` credits, the reader
    /// receiving after each reply gives it back. When the reader exits, sending fails.
    credits: Sender<()>,
    reader: JoinHandle<()>,
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
            // The first worker starts here, so a program that cannot be run is an error now
            // rather than a failed task later. On `?`, dropping `executor` stops the others.
            let worker = slot.spawn_worker()?;
            let jobs_rx = jobs_rx.clone();
            let feeder = std::thread::Builder::new()
                .name(format!("process-feeder-{n}"))
                .spawn(move || slot.feed(worker, &jobs_rx))?;
            executor.feeders.push(feeder);
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

    /// How many worker processes died and were replaced so far.
    pub fn workers_replaced(&self) -> usize {
        // Relaxed: a statistic read after the fact; the completions carry the real news.
        self.replaced.load(Ordering::Relaxed)
    }

    /// Runs what is queued, then stops every worker process and reaps it.
    pub fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop_and_join()
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

impl Slot {
    /// The feeder: hands jobs to its worker, replacing the worker when it dies.
    fn feed(self, mut worker: Worker, jobs: &Receiver<(TaskId, Job)>) {
        let mut held = None;
        while let Some((id, job)) = held.take().or_else(|| next_job(jobs, &mut worker.stdin)) {
            if worker.send(id, job, &self.ranks).is_ok() {
                continue;
            }
            // The worker is gone; its reader reported the tasks it had. This job never reached
            // it, so it goes to the replacement.
            worker.finish();
            self.replaced.fetch_add(1, Ordering::Relaxed);
            match self.spawn_worker() {
                Ok(fresh) => {
                    worker = fresh;
                    held = Some((id, job));
                }
                Err(err) => return self.fail_all((id, job), jobs, &err),
            }
        }
        worker.finish();
    }

    /// With no worker to be had, fail every job rather than leave `as_completed` waiting.
    fn fail_all(&self, first: (TaskId, Job), jobs: &Receiver<(TaskId, Job)>, err: &io::Error) {
        for (id, _) in std::iter::once(first).chain(jobs.iter()) {
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
        let mut child = {
            let mut pids = registry();
            let child = worker_command(&self.program).spawn()?;
            pids.push(child.id());
            child
        };
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            unreachable!("both pipes were requested");
        };
        let in_flight = Arc::new(Mutex::new(InFlight::default()));
        let (credits, credits_rx) = crossbeam_channel::bounded(self.window);
        let (shared, done_tx) = (Arc::clone(&in_flight), self.done_tx.clone());
        let pid = child.id();
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
            // reaps it: do both by pid (still listed, so the pid is still ours).
            Err(err) => {
                drop(stdin);
                let _ = kill(nix_pid(pid), Signal::SIGKILL);
                deregister(pid);
                let _ = waitpid(nix_pid(pid), None);
                Err(err)
            }
        }
    }
}

/// The command line of a worker: this program with the hidden subcommand, talking over pipes.
fn worker_command(program: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .arg(WORKER_COMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    command
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
    /// Writes one job to the worker, waiting for a free credit. `Err` means the worker is dead
    /// and the job was not given to it.
    fn send(&mut self, id: TaskId, job: Job, ranks: &AtomicU64) -> Result<(), ()> {
        if self.credits.try_send(()).is_err() {
            // Window full (or reader gone): push out what we buffered, then wait for a reply.
            let _ = self.stdin.flush();
            self.credits.send(()).map_err(|_| ())?;
        }
        {
            let mut in_flight = self
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if in_flight.dead {
                return Err(());
            }
            // Relaxed: the rank only has to be unique; nothing else is published through it.
            in_flight
                .tasks
                .push_back((id, ranks.fetch_add(1, Ordering::Relaxed)));
        }
        // Listed before written: if this write fails the worker is dying, and its reader will
        // report the task as lost with the others it had.
        let _ = self.stdin.write_all(job.to_line(id).as_bytes());
        Ok(())
    }

    /// Closes the worker's stdin (it finishes what it has, then exits) and joins its reader,
    /// which reaps it.
    fn finish(self) {
        let Self {
            mut stdin, reader, ..
        } = self;
        let _ = stdin.flush();
        drop(stdin);
        // The reader catches nothing that could panic but a poisoned-free lock; if it did
        // panic, its worker's tasks could be unreported, so make that loud.
        if reader.join().is_err() {
            eprintln!("error: a worker reader thread panicked");
        }
    }
}

/// The reader: every reply becomes a completion; at end-of-file the worker is reaped and any
/// task it still had is reported lost.
fn read_replies(
    mut child: Child,
    stdout: ChildStdout,
    in_flight: &Mutex<InFlight>,
    credits: &Receiver<()>,
    done_tx: &Sender<Completion>,
) {
    let mut lines = BufReader::new(stdout);
    let mut line = String::new();
    while matches!(lines.read_line(&mut line), Ok(n) if n > 0) {
        if let Some((id, outcome)) = parse_reply(&line) {
            let start_rank = {
                let mut in_flight = in_flight.lock().unwrap_or_else(PoisonError::into_inner);
                let at = in_flight.tasks.iter().position(|&(t, _)| t == id);
                at.and_then(|at| in_flight.tasks.remove(at))
                    .map(|(_, rank)| rank)
            };
            let _ = done_tx.send(Completion {
                id,
                start_rank,
                outcome,
            });
            // Give the credit back; the feeder always took one for this task.
            let _ = credits.try_recv();
        }
        line.clear();
    }
    deregister(child.id());
    let status = child
        .wait()
        .map_or_else(|err| format!("status unknown: {err}"), |s| s.to_string());
    let lost = {
        let mut in_flight = in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        in_flight.dead = true;
        std::mem::take(&mut in_flight.tasks)
    };
    for (id, rank) in lost {
        let _ = done_tx.send(Completion {
            id,
            start_rank: Some(rank),
            outcome: Err(TaskError::WorkerLost(format!(
                "worker process {} ended ({status}) while it had the task",
                child.id()
            ))),
        });
    }
}

/// `Child::id` is the kernel's `pid_t` (an `i32`) widened to `u32`, so narrowing it back is exact.
fn nix_pid(pid: u32) -> Pid {
    Pid::from_raw(pid as i32)
}

fn deregister(pid: u32) {
    registry().retain(|&p| p != pid);
}
