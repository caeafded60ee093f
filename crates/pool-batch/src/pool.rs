//! A worker pool built by hand on `crossbeam-channel`: a fixed set of threads that live until
//! the pool is dropped, and an ordered `map` over them, one item a message or in chunks.
//!
//! The workers know nothing about maps. They pull type-erased jobs (`Box<dyn FnOnce()>`) from
//! one shared queue and run them, so one pool serves any number of maps of any types. A map
//! submits one *drain* job per worker; each drain job pulls items from a channel typed for this
//! map, so the per-item cost of [`ThreadPool::map`] is one channel operation (the item in; the
//! results go back in one message per worker) and no allocation of our own (an unbounded
//! crossbeam channel allocates one block per 31 messages). Boxing a closure per item, the
//! textbook design, would add an allocation and a virtual call per item and buys nothing here.
//!
//! [`ThreadPool::map_chunked`] sends `chunk` items a message and gets each chunk's results back
//! in one message, so both channel operations, the panic guard and the wake-ups are shared by
//! the whole chunk. What is left per item is the task, one move of the item into a chunk
//! buffer, one move of the result out of a result buffer into the output, and the first touch
//! of the output's memory. Rayon's `collect` writes each result straight into the output
//! (through `unsafe` code that hands each worker a raw slice of it); our workers are
//! `'static` threads that outlive any one map, so handing them a borrowed slice of the output
//! would take the same `unsafe` lifetime erasure, and a lesson about pools keeps to safe code
//! and pays one copy per result instead.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError, unbounded};

use crate::results::{InOrder, run_caught, run_chunk_caught, scatter};

/// A job the workers run: anything that can be called once and sent to a thread.
type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long an idle worker keeps looking for the next job before it sleeps.
const IDLE_SPIN: Duration = Duration::from_micros(100);

/// The next job, or `None` once the pool is shut down and the queue is empty.
///
/// A worker that finds the queue empty first polls it for [`IDLE_SPIN`], yielding its CPU
/// between polls, and only then sleeps in `recv`. Sleeping at once, as a bare `recv` does after
/// a few microseconds of spinning, made every map wake its workers from sleep: tens of
/// microseconds per map on a VM, more than a short map's whole work. Rayon's idle workers spin
/// the same way before they sleep. The price is up to 100 µs of an idle core's time after each
/// burst of work, and `yield_now` hands even that to any other thread that wants the core.
fn next_job(queue: &Receiver<Job>) -> Option<Job> {
    let idle_since = Instant::now();
    loop {
        match queue.try_recv() {
            Ok(job) => return Some(job),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if idle_since.elapsed() >= IDLE_SPIN => {
                return queue.recv().ok();
            }
            Err(TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
}

/// Why one item has no result. Every item of a map gets either its result or one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The task panicked; the message is the panic's payload. The worker survived it.
    #[error("task panicked: {0}")]
    Panicked(String),
    /// A worker process died while running this item, twice (see the `process` module).
    #[error("worker process died running this item: {0}")]
    WorkerDied(String),
    /// The pool stopped before answering (every worker gone); never seen in a healthy pool.
    #[error("the pool stopped before this item was answered")]
    Lost,
}

/// A pool failure, as opposed to one item's failure.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The OS refused to start a worker thread or process.
    #[error("could not start a worker: {0}")]
    Spawn(#[from] std::io::Error),
    /// A worker thread panicked outside any task (a bug in the pool itself).
    #[error("worker thread {0} panicked")]
    WorkerPanicked(usize),
}

/// A fixed pool of worker threads; dropping it (or [`ThreadPool::shutdown`]) joins them.
#[derive(Debug)]
pub struct ThreadPool {
    /// The job queue's sending half; `None` once shut down. Dropping it is how workers learn to
    /// exit: their `recv` fails once the queue is empty and no sender is left.
    jobs: Option<Sender<Job>>,
    /// The worker threads, joined on shutdown.
    workers: Vec<JoinHandle<()>>,
}

impl ThreadPool {
    /// Starts `workers` threads (at least one), each waiting on the shared job queue.
    pub fn new(workers: usize) -> Result<Self, PoolError> {
        // Unbounded: a map already holds all its items in memory, so the queue holds nothing
        // more, and a bounded queue would put a parked-sender wake-up on the hot path.
        let (jobs, queue) = unbounded::<Job>();
        let mut pool = Self {
            jobs: Some(jobs),
            workers: Vec::new(),
        };
        for id in 0..workers.max(1) {
            let queue = queue.clone();
            let handle = std::thread::Builder::new()
                .name(format!("pool-worker-{id}"))
                .spawn(move || {
                    // Several workers wait on one receiver: crossbeam's channels are
                    // multi-consumer, where std's `mpsc` needs a `Mutex<Receiver>` around it.
                    while let Some(job) = next_job(&queue) {
                        job();
                    }
                })?;
            pool.workers.push(handle);
        }
        Ok(pool)
    }

    /// How many worker threads the pool has.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    fn submit(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            // Sending fails only when every worker is gone; the map then reports its items as
            // `Lost` instead of waiting for answers that cannot come.
            let _ = jobs.send(job);
        }
    }

    /// Applies `f` to every item, one item a message, and returns the results in input order.
    /// A task that panics becomes `Err(TaskError::Panicked)` for its item only.
    pub fn map<T, R, F>(&self, f: F, items: Vec<T>) -> Vec<Result<R, TaskError>>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let n = items.len();
        let f = Arc::new(f);
        let (item_tx, item_rx) = unbounded::<(usize, T)>();
        // One answer per drain job, not per item: each worker keeps `(index, result)` pairs in
        // its own `Vec` and sends them all when the items run out. A result channel per item,
        // the obvious design (and Python's: every result is pickled back alone), doubled the
        // channel operations per item and woke the calling thread for every result.
        let (result_tx, result_rx) = unbounded::<Vec<(usize, Result<R, TaskError>)>>();
        for _ in 0..self.workers() {
            let (f, item_rx, result_tx) = (f.clone(), item_rx.clone(), result_tx.clone());
            self.submit(Box::new(move || {
                let mut answers = Vec::new();
                for (i, item) in item_rx {
                    answers.push((i, run_caught(&*f, item)));
                }
                let _ = result_tx.send(answers);
            }));
        }
        // Only the drain jobs may hold result senders, so `result_rx` ends when they are done
        // (or dropped unrun), never hangs.
        drop(result_tx);
        for pair in items.into_iter().enumerate() {
            let _ = item_tx.send(pair);
        }
        drop(item_tx);
        scatter(n, result_rx.into_iter().flatten())
    }

    /// Like [`map`](ThreadPool::map), but sends `chunk` items per message and gets their results
    /// back in one message, so the channel operations, the panic guard and the wake-ups are
    /// shared by `chunk` items (Python's `chunksize`). A task that panics is still an `Err` for
    /// its item only.
    pub fn map_chunked<T, R, F>(
        &self,
        f: F,
        items: Vec<T>,
        chunk: usize,
    ) -> Vec<Result<R, TaskError>>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let (n, chunk) = (items.len(), chunk.max(1));
        let f = Arc::new(f);
        let (chunk_tx, chunk_rx) = unbounded::<(usize, Vec<T>)>();
        // A result message also carries the chunk's input buffer back, emptied, for the next
        // chunk; `spare` carries emptied result buffers the other way. See "Buffers" below.
        let (result_tx, result_rx) = unbounded::<(usize, Vec<T>, Vec<Result<R, TaskError>>)>();
        let (spare_tx, spare_rx) = unbounded::<Vec<Result<R, TaskError>>>();
        for _ in 0..self.workers() {
            let (f, chunk_rx, result_tx) = (f.clone(), chunk_rx.clone(), result_tx.clone());
            let spare_rx = spare_rx.clone();
            self.submit(Box::new(move || {
                for (start, mut part) in chunk_rx {
                    // A spare buffer if the caller has returned one, a new one if not.
                    let mut results = spare_rx.try_recv().unwrap_or_default();
                    // One panic guard per chunk, not per item (see `run_chunk_caught`).
                    run_chunk_caught(&*f, &mut part, &mut results);
                    let _ = result_tx.send((start, part, results));
                }
            }));
        }
        drop(result_tx);
        // Buffers: every chunk needs an input buffer and a result buffer. Allocating both per
        // chunk, the obvious way, touched fresh memory for every item twice over, and on
        // this kind of machine the first touch of a page (a page fault, about a microsecond
        // per 4 KiB) cost more than everything else the pool does. So only `window` chunks are
        // in flight: a new chunk goes out, in the input buffer that came back, each time a
        // result comes in, and the result buffer goes back once copied into the output. A
        // handful of buffers then serve the whole map, and the memory in flight is bounded.
        // `4 × workers` chunks: enough that a worker finds the next chunk queued even while
        // the calling thread is busy copying.
        let window = 4 * self.workers().max(1);
        let mut items = items.into_iter();
        let mut starts = (0..n).step_by(chunk).peekable();
        let mut chunk_tx = Some(chunk_tx);
        // Fills `part` with the next chunk and sends it; after the last chunk, drops the
        // sender, which is how the drain jobs learn that the map has no more items.
        let mut send_next = |mut part: Vec<T>| {
            if let (Some(start), Some(tx)) = (starts.next(), &chunk_tx) {
                part.extend(items.by_ref().take(chunk));
                let _ = tx.send((start, part));
            }
            if starts.peek().is_none() {
                chunk_tx = None;
            }
        };
        for _ in 0..window {
            // `extend` reserves exactly one chunk; no buffer is allocated for chunks that
            // do not exist.
            send_next(Vec::new());
        }
        // Each chunk's results are appended to the output as soon as they are next in order,
        // while the workers compute the chunks after it.
        let mut out = InOrder::new(n);
        for (start, part, results) in result_rx {
            send_next(part);
            out.add(start, results);
            for spare in out.spent() {
                let _ = spare_tx.send(spare);
            }
        }
        out.finish()
    }

    /// Stops the pool: closes the queue, lets the workers finish what is queued, joins them,
    /// and reports a worker that panicked instead of losing it.
    pub fn shutdown(mut self) -> Result<(), PoolError> {
        self.join_all()
    }

    fn join_all(&mut self) -> Result<(), PoolError> {
        drop(self.jobs.take());
        let mut outcome = Ok(());
        for (id, worker) in self.workers.drain(..).enumerate() {
            if worker.join().is_err() {
                outcome = Err(PoolError::WorkerPanicked(id));
            }
        }
        outcome
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        // Drop cannot return the error; `shutdown` can. Say it rather than lose it.
        if let Err(err) = self.join_all() {
            eprintln!("pool-batch: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_input_order() {
        let pool = ThreadPool::new(3).unwrap();
        let out = pool.map(|x: u64| x * 10, (0..1000).collect());
        let want: Vec<Result<u64, TaskError>> = (0..1000).map(|x| Ok(x * 10)).collect();
        assert_eq!(out, want);
        for chunk in [1, 7, 1000, 5000] {
            assert_eq!(
                pool.map_chunked(|x: u64| x * 10, (0..1000).collect(), chunk),
                want
            );
        }
        pool.shutdown().unwrap();
    }

    #[test]
    fn a_panic_fails_its_item_and_the_pool_keeps_working() {
        let pool = ThreadPool::new(2).unwrap();
        let f = |x: u32| if x == 3 { panic!("three") } else { x };
        let out = pool.map_chunked(f, (0..6).collect(), 4);
        assert_eq!(out[3], Err(TaskError::Panicked("three".into())));
        assert_eq!(out.iter().filter(|r| r.is_ok()).count(), 5);
        assert_eq!(
            pool.map(f, vec![3, 4]),
            vec![Err(TaskError::Panicked("three".into())), Ok(4)]
        );
        // Both workers are still there after the panics.
        assert_eq!(pool.map(|x: u32| x + 1, vec![1, 2]), vec![Ok(2), Ok(3)]);
        assert_eq!(pool.workers(), 2);
        pool.shutdown().unwrap();
    }

    #[test]
    fn empty_input_gives_empty_output() {
        let pool = ThreadPool::new(1).unwrap();
        assert!(pool.map(|x: u8| x, Vec::new()).is_empty());
        assert!(pool.map_chunked(|x: u8| x, Vec::new(), 3).is_empty());
    }
}
