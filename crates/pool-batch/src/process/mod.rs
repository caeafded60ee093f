//! The same ordered `map`, over worker *processes*: the program re-executes itself as workers,
//! and items and results cross the process boundary as JSON lines on the workers' stdin/stdout.
//!
//! Why re-execute (`current_exe` + a hidden `worker` subcommand) and not `fork`: after `fork`
//! in a multithreaded process the child may only call async-signal-safe functions, and this
//! parent has pool threads; a fresh process has no such trap. It is Python's "spawn" start
//! method, and, as there, the task travels by name (the `Job`), never as a closure.
//!
//! Faults: a worker that dies mid-chunk is reaped and replaced, and its chunk is **retried once,
//! item by item**, on the replacement. A transient death (the OOM killer, a stray `kill`) so
//! loses nothing; an item that kills the replacement too is reported as
//! [`TaskError::WorkerDied`] and the map goes on. Python's `Pool.map` hangs forever when a
//! worker is killed; `ProcessPoolExecutor` fails every pending task with `BrokenProcessPool`.
//!
//! Nothing is left behind: every live worker's pid is tracked by the `reaper` crate from its
//! start until it is reaped; dropping the pool closes the workers' stdin (they exit on end of
//! input) and reaps them, and the binary's Ctrl-C handler (`reaper::install`) kills and reaps
//! whatever is still running and exits. If the parent is killed outright (SIGKILL: no handler runs), its end of the
//! pipes closes with it, and each worker exits at its next read (end of input) or write
//! (broken pipe), so none outlives its current chunk.

mod worker;

use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crossbeam_channel::{Receiver, Sender, unbounded};

pub use worker::serve;

use crate::pool::{PoolError, TaskError};
use crate::results::in_order;

/// How to start one worker process: the program (normally `std::env::current_exe()`) and the
/// arguments that make it a worker for one job.
#[derive(Debug, Clone)]
pub struct WorkerCommand {
    /// The program to run.
    pub program: PathBuf,
    /// Its arguments, e.g. `["worker", "--task", "square"]`.
    pub args: Vec<String>,
}

/// One worker process and the two pipe ends we talk to it through.
struct Worker {
    /// The process, kept to kill and reap it.
    child: Child,
    /// Where requests go; `None` once the worker is reaped (closing it is how a healthy worker
    /// is told to exit).
    stdin: Option<BufWriter<ChildStdin>>,
    /// Where answers come from, one line each.
    stdout: BufReader<ChildStdout>,
    /// The last answer line, reused to avoid an allocation per chunk.
    line: String,
}

impl Worker {
    fn spawn(command: &WorkerCommand) -> io::Result<Self> {
        let mut child = reaper::spawn(
            Command::new(&command.program)
                .args(&command.args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped()),
        )?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            unreachable!("both were set to Stdio::piped()");
        };
        Ok(Self {
            child,
            stdin: Some(BufWriter::new(stdin)),
            stdout: BufReader::new(stdout),
            line: String::new(),
        })
    }

    /// Sends `items` as one JSON line and reads one line of results back. `Err` means the
    /// worker is dead or speaking nonsense: either way it must be replaced.
    fn call(&mut self, items: &[u64]) -> Result<Vec<Result<u64, String>>, String> {
        let stdin = self.stdin.as_mut().ok_or("worker already closed")?;
        serde_json::to_writer(&mut *stdin, items)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                stdin
                    .write_all(b"\n")
                    .and_then(|()| stdin.flush())
                    .map_err(|e| e.to_string())
            })?;
        self.line.clear();
        match self.stdout.read_line(&mut self.line) {
            Ok(0) => return Err("end of output".into()),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
        let results: Vec<Result<u64, String>> =
            serde_json::from_str(&self.line).map_err(|e| format!("bad answer: {e}"))?;
        if results.len() != items.len() {
            return Err(format!(
                "{} answers for {} items",
                results.len(),
                items.len()
            ));
        }
        Ok(results)
    }

    /// Kills (if needed) and reaps this worker, describing how it ended.
    fn reap(&mut self, force: bool) -> String {
        drop(self.stdin.take()); // end of input: a healthy worker exits by itself
        if force {
            // Through the registry, not `Child::kill`: it signals only a child not yet reaped.
            reaper::kill(reaper::pid_of(&self.child));
        }
        match reaper::wait_child(&mut self.child) {
            Ok(status) => reaper::describe_exit(self.child.id(), status),
            Err(e) => format!("could not reap: {e}"),
        }
    }

    /// Reaps this dead worker and starts a fresh one in its place; returns how the old one ended.
    fn replace(&mut self, command: &WorkerCommand) -> Result<String, PoolError> {
        let ended = self.reap(true);
        // The old worker is reaped (its stdin is gone), so dropping it here does nothing more.
        *self = Worker::spawn(command)?;
        Ok(ended)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // `stdin` is taken exactly when the worker is reaped, so it marks one not yet reaped.
        if self.stdin.is_some() {
            self.reap(false);
        }
    }
}

/// A fixed pool of worker processes; dropping it ends and reaps them.
pub struct ProcessPool {
    command: WorkerCommand,
    workers: Vec<Worker>,
}

/// What a [`ProcessPool::map`] returns: the results in input order, and how many workers had
/// to be replaced because they died.
#[derive(Debug)]
pub struct ProcessMap {
    /// One result per item, in input order.
    pub results: Vec<Result<u64, TaskError>>,
    /// Worker processes that died and were replaced during this map.
    pub replaced: usize,
}

impl ProcessPool {
    /// Starts `workers` worker processes (at least one) with `command`.
    pub fn new(workers: usize, command: WorkerCommand) -> Result<Self, PoolError> {
        let workers = (0..workers.max(1))
            .map(|_| Worker::spawn(&command))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Self { command, workers })
    }

    /// Applies the workers' job to every item, `chunk` items a message, results in input order.
    pub fn map(&mut self, items: &[u64], chunk: usize) -> Result<ProcessMap, PoolError> {
        let chunk = chunk.max(1);
        let (chunk_tx, chunk_rx) = unbounded();
        for (k, part) in items.chunks(chunk).enumerate() {
            let _ = chunk_tx.send((k * chunk, part));
        }
        drop(chunk_tx);
        let (result_tx, result_rx) = unbounded();
        let command = &self.command;
        // One driver thread per worker process: it blocks on that worker's pipe while the
        // others work. Scoped, so the drivers can borrow the items and the workers.
        let outcomes: Vec<Result<usize, PoolError>> = std::thread::scope(|scope| {
            let drivers: Vec<_> = self
                .workers
                .iter_mut()
                .map(|worker| {
                    let (chunk_rx, result_tx) = (chunk_rx.clone(), result_tx.clone());
                    scope.spawn(move || drive(worker, command, &chunk_rx, &result_tx))
                })
                .collect();
            drop(result_tx);
            drivers
                .into_iter()
                .map(|d| {
                    d.join().unwrap_or_else(|p| {
                        Err(io::Error::other(reaper::panic_message(&*p)).into())
                    })
                })
                .collect()
        });
        let mut replaced = 0;
        for outcome in outcomes {
            replaced += outcome?;
        }
        Ok(ProcessMap {
            results: in_order(items.len(), result_rx),
            replaced,
        })
    }
}

type Answer = (usize, Vec<Result<u64, TaskError>>);

/// Feeds chunks to one worker until none are left; returns how many times it was replaced.
fn drive(
    worker: &mut Worker,
    command: &WorkerCommand,
    chunks: &Receiver<(usize, &[u64])>,
    answers: &Sender<Answer>,
) -> Result<usize, PoolError> {
    let mut replaced = 0;
    for (start, part) in chunks {
        if let Ok(results) = worker.call(part) {
            let results = results.into_iter().map(|r| r.map_err(TaskError::Panicked));
            let _ = answers.send((start, results.collect()));
            continue;
        }
        // The worker died somewhere in this chunk: we do not know which item killed it, so
        // retry the chunk once, one item at a time, on a fresh worker.
        worker.replace(command)?;
        replaced += 1;
        for (k, &x) in part.iter().enumerate() {
            let result = match worker.call(&[x]) {
                Ok(mut one) => one
                    .pop()
                    .unwrap_or(Err("no answer".into()))
                    .map_err(TaskError::Panicked),
                Err(_) => {
                    replaced += 1;
                    Err(TaskError::WorkerDied(worker.replace(command)?))
                }
            };
            let _ = answers.send((start + k, vec![result]));
        }
    }
    Ok(replaced)
}
