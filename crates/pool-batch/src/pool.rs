//! A worker pool built by hand on `crossbeam-channel`: a fixed set of threads that live until
//! the pool is dropped, and an ordered `map` over them, one item a message or in chunks.
//!
//! The workers know nothing about maps. They pull type-erased jobs (`Box<dyn FnOnce()>`) from
//! one shared queue and run them, so one pool serves any number of maps of any types. A map
//! submits one *drain* job per worker; each drain job pulls items from a channel typed for this
//! map, so the per-item cost is two channel operations (item in, result out) and no allocation
//! of our own (an unbounded crossbeam channel allocates one block per 31 messages).
//! Boxing a closure per item, the textbook design, would add an allocation and a virtual call
//! per item and buys nothing here.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Sender, unbounded};

use crate::results::{in_order, run_caught};

/// A job the workers run: anything that can be called once and sent to a thread.
type Job = Box<dyn FnOnce() + Send + 'static>;

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
                    for job in queue {
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
        let (result_tx, result_rx) = unbounded::<(usize, Result<R, TaskError>)>();
        for _ in 0..self.workers() {
            let (f, item_rx, result_tx) = (f.clone(), item_rx.clone(), result_tx.clone());
            self.submit(Box::new(move || {
                for (i, item) in item_rx {
                    let _ = result_tx.send((i, run_caught(&*f, item)));
                }
            }));
        }
        // Only the drain jobs may hold result senders, so `result_rx` ends when they are done
        // (or dropped unrun), never hangs.
        drop(result_tx);
        for pair in items.into_iter().enumerate() {
            let _ = item_tx.send(pair);
        }
        drop(item_tx);
        // `Some(r)` is a one-item iterator without the allocation a `vec![r]` would cost.
        in_order(n, result_rx.into_iter().map(|(i, r)| (i, Some(r))))
    }

    /// Like [`map`](ThreadPool::map), but sends `chunk` items per message, so the two channel
    /// operations per message are shared by `chunk` items (Python's `chunksize`).
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
        let (result_tx, result_rx) = unbounded::<(usize, Vec<Result<R, TaskError>>)>();
        for _ in 0..self.workers() {
            let (f, chunk_rx, result_tx) = (f.clone(), chunk_rx.clone(), result_tx.clone());
            self.submit(Box::new(move || {
                for (start, part) in chunk_rx {
                    let results = part.into_iter().map(|x| run_caught(&*f, x)).collect();
                    let _ = result_tx.send((start, results));
                }
            }));
        }
        drop(result_tx);
        let mut items = items.into_iter();
        for start in (0..n).step_by(chunk) {
            let _ = chunk_tx.send((start, items.by_ref().take(chunk).collect()));
        }
        drop(chunk_tx);
        in_order(n, result_rx)
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
