//! Step 6: a pool of worker processes with the chunked, ordered `map` of step 2.
//!
//! Since step 5: `workers` of those processes, each driven by a thread of ours that blocks on
//! its pipe while the others work, all pulling chunks from one channel. A worker that dies
//! mid-chunk is reaped and replaced, and its chunk is **retried once, item by item**, on the
//! replacement: a transient death (the OOM killer, a stray `kill`) so loses nothing, and an item
//! that kills the replacement too is reported as [`TaskError::WorkerDied`] while the map goes
//! on. Python's `Pool.map` hangs forever when a worker is killed; `ProcessPoolExecutor` fails
//! every pending task with `BrokenProcessPool`.

// ANCHOR: pattern
use std::io;
use std::thread;

use crossbeam_channel::{Receiver, Sender, unbounded};

use super::s5_worker_process::{Worker, WorkerCommand};
use super::{PoolError, Results, TaskError, in_order};

/// A fixed pool of worker processes; dropping it ends and reaps them.
pub struct ProcessPool {
    command: WorkerCommand,
    workers: Vec<Worker>,
}

/// What [`ProcessPool::map`] returns: the results in input order, and how many workers had to
/// be replaced because they died.
#[derive(Debug)]
pub struct ProcessMap {
    /// One result per item, in input order.
    pub results: Results<u64>,
    /// Worker processes that died and were replaced during this map.
    pub replaced: usize,
}

/// A chunk's first item's position, and the chunk's results.
type Answer = (usize, Results<u64>);

impl ProcessPool {
    /// Starts `workers` worker processes (at least one) with `command`.
    pub fn new(workers: usize, command: WorkerCommand) -> Result<Self, PoolError> {
        let workers = (0..workers.max(1))
            .map(|_| Worker::spawn(&command))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Self { command, workers })
    }

    /// Applies the workers' task to every item, `chunk` items a message, results in input order.
    pub fn map(&mut self, items: &[u64], chunk: usize) -> Result<ProcessMap, PoolError> {
        let chunk = chunk.max(1);
        let (chunk_tx, chunks) = unbounded();
        for (k, part) in items.chunks(chunk).enumerate() {
            // The receiver is alive a few lines below, so this send cannot fail.
            let _ = chunk_tx.send((k * chunk, part));
        }
        drop(chunk_tx);
        let (answer_tx, answers) = unbounded();
        let command = &self.command;
        // One driver thread per worker process. Scoped, so the drivers can borrow the items
        // and the workers.
        let replaced = thread::scope(|scope| {
            let drivers: Vec<_> = self
                .workers
                .iter_mut()
                .map(|worker| {
                    let (chunks, answer_tx) = (chunks.clone(), answer_tx.clone());
                    scope.spawn(move || drive(worker, command, &chunks, &answer_tx))
                })
                .collect();
            drop(answer_tx);
            // Every driver is joined before any error is returned: a driver left unjoined
            // would have its panic re-raised by the scope. A driver that panicked is a bug
            // here; its message becomes the map's error.
            let joined: Vec<Result<usize, PoolError>> = drivers
                .into_iter()
                .map(|driver| {
                    driver.join().unwrap_or_else(|payload| {
                        Err(io::Error::other(reaper::panic_message(&*payload)).into())
                    })
                })
                .collect();
            joined.into_iter().sum::<Result<usize, PoolError>>()
        })?;
        let results = in_order(items.len(), answers);
        Ok(ProcessMap { results, replaced })
    }
}

/// Feeds chunks to one worker until none are left; returns how many times it was replaced.
fn drive(
    worker: &mut Worker,
    command: &WorkerCommand,
    chunks: &Receiver<(usize, &[u64])>,
    answers: &Sender<Answer>,
) -> Result<usize, PoolError> {
    let mut replaced = 0;
    // `map` holds the answers' receiver until every driver is done, so no send below can fail.
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
                Ok(mut one) => one.pop().unwrap_or(Err("no answer".into())),
                Err(_) => {
                    replaced += 1;
                    let ended = worker.replace(command)?;
                    let _ = answers.send((start + k, vec![Err(TaskError::WorkerDied(ended))]));
                    continue;
                }
            };
            let _ = answers.send((start + k, vec![result.map_err(TaskError::Panicked)]));
        }
    }
    Ok(replaced)
}
// ANCHOR_END: pattern
