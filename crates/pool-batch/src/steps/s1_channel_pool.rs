//! Step 1: a pool of worker threads fed by one channel, and `map` with results in input order.
//!
//! The first step, Python's `Pool(n).map(f, items, chunksize=1)` on threads: a fixed set of
//! threads that live until the pool is dropped, each pulling jobs from one shared queue and
//! running them. `map` sends every item as its own job and puts the answers back in order.

// ANCHOR: pool
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Sender, unbounded};

use super::{PoolError, Results, in_order, run_caught};

/// A job the workers run: anything that can be called once and sent to a thread.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed pool of worker threads; dropping it (or [`ThreadPool::shutdown`]) joins them.
#[derive(Debug)]
pub struct ThreadPool {
    /// The job queue's sending half; `None` once shut down. Dropping it is how workers learn to
    /// exit: their loop over the queue ends once it is empty and no sender is left.
    pub(crate) jobs: Option<Sender<Job>>,
    /// The worker threads, joined on shutdown.
    pub(crate) workers: Vec<JoinHandle<()>>,
    /// Jobs given to [`ThreadPool::execute`] that panicked, counted by the workers that caught
    /// them; reported by [`ThreadPool::shutdown`].
    pub(crate) panicked: Arc<AtomicUsize>,
}

/// Runs one job of the queue on a worker. A job that panics is caught and counted, and the
/// worker goes on to the next one. Rejected: letting the panic end the thread, which shrinks
/// the pool by one worker per panic, silently, until no worker is left to run anything.
pub(crate) fn run_job(job: Job, panicked: &AtomicUsize) {
    // `AssertUnwindSafe`: the job is consumed by the call, so nothing it left half-done is
    // looked at again here (state it shares behind a `Mutex` is poisoned, as after any panic).
    if catch_unwind(AssertUnwindSafe(job)).is_err() {
        // Relaxed: the count is read only after every worker is joined, and the join orders
        // this add before that read.
        panicked.fetch_add(1, Ordering::Relaxed);
    }
}

impl ThreadPool {
    /// Starts `workers` threads (at least one), each waiting on the shared job queue.
    pub fn new(workers: usize) -> Result<Self, PoolError> {
        // Unbounded: a map already holds all its items in memory, so the queue holds nothing
        // more, and a bounded queue would make `execute` wait for a worker to take a job.
        let (jobs, queue) = unbounded::<Job>();
        // The pool exists before its first thread does, so a failed spawn below drops it, and
        // dropping it joins the threads already started instead of leaving them behind.
        let mut pool = Self {
            jobs: Some(jobs),
            workers: Vec::new(),
            panicked: Arc::default(),
        };
        for id in 0..workers.max(1) {
            // Several workers wait on one receiver: crossbeam's channels are multi-consumer,
            // where std's `mpsc` needs a `Mutex<Receiver>` around it.
            let (queue, panicked) = (queue.clone(), Arc::clone(&pool.panicked));
            let worker = thread::Builder::new()
                .name(format!("pool-worker-{id}"))
                .spawn(move || {
                    for job in queue {
                        run_job(job, &panicked);
                    }
                })?;
            pool.workers.push(worker);
        }
        Ok(pool)
    }

    /// How many worker threads the pool has.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Queues `job` for the next free worker. Returns `false` if no worker is left to run it:
    /// the job is then dropped unrun, and with it any sender it holds. A job that panics does
    /// not end its worker: the panic hook prints it as for any panic, and
    /// [`shutdown`](ThreadPool::shutdown) reports how many did ([`PoolError::JobsPanicked`]).
    pub fn execute(&self, job: impl FnOnce() + Send + 'static) -> bool {
        let Some(jobs) = &self.jobs else {
            return false;
        };
        jobs.send(Box::new(job)).is_ok()
    }
}
// ANCHOR_END: pool

// ANCHOR: map
impl ThreadPool {
    /// Applies `f` to every item, one item a job, and returns the results in input order.
    /// A task that panics becomes `Err(TaskError::Panicked)` for its item only.
    ///
    /// [`TaskError::Panicked`]: super::TaskError::Panicked
    pub fn map<T, R, F>(&self, f: F, items: Vec<T>) -> Results<R>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let n = items.len();
        // Every job holds the function; `Arc` shares one copy instead of cloning it per item.
        let f = Arc::new(f);
        let (answers, answered) = unbounded();
        for (i, item) in items.into_iter().enumerate() {
            let (f, answers) = (Arc::clone(&f), answers.clone());
            // An item no worker takes is dropped with its sender and counts as `Lost` below.
            self.execute(move || {
                // The map holds the receiver until every sender is gone, so this cannot fail.
                let _ = answers.send((i, [run_caught(&*f, item)]));
            });
        }
        // Now only the jobs hold senders: `answered` ends when the last job has answered (or
        // was dropped unrun), so the loop in `in_order` cannot wait forever.
        drop(answers);
        in_order(n, answered)
    }
}
// ANCHOR_END: map

// ANCHOR: shutdown
impl ThreadPool {
    /// Stops the pool: closes the queue, lets the workers finish what is queued, joins them,
    /// and reports a worker, or else jobs given to `execute`, that panicked instead of losing
    /// them.
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
        // Every worker is joined: no job is left to count (see `run_job`), and a second call
        // (`Drop` after `shutdown`) finds zero.
        match self.panicked.swap(0, Ordering::Relaxed) {
            0 => outcome,
            jobs => outcome.and(Err(PoolError::JobsPanicked(jobs))),
        }
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
// ANCHOR_END: shutdown

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Condvar, Mutex};
    use std::time::Duration;

    use super::*;
    use crate::steps::TaskError;

    /// Whether every worker the pool started is alive: one job per worker, each waiting until
    /// all have started, all end `true` only if that many workers took them at once. The wait
    /// is bounded so that a pool short of a worker fails a test instead of hanging it.
    pub(crate) fn every_worker_is_alive(pool: &ThreadPool) -> bool {
        let n = pool.workers();
        let started = Arc::new((Mutex::new(0), Condvar::new()));
        let met = move |_: usize| {
            let (count, changed) = &*started;
            let mut count = count.lock().unwrap();
            *count += 1;
            changed.notify_all();
            let bound = Duration::from_secs(30);
            let (count, _) = changed
                .wait_timeout_while(count, bound, |c| *c < n)
                .unwrap();
            *count >= n
        };
        pool.map(met, vec![0; n]).iter().all(|r| r == &Ok(true))
    }

    #[test]
    fn map_keeps_input_order() {
        let pool = ThreadPool::new(3).unwrap();
        let out = pool.map(|x: u64| x * 10, (0..1000).collect());
        let want: Results<u64> = (0..1000).map(|x| Ok(x * 10)).collect();
        assert_eq!(out, want);
        pool.shutdown().unwrap();
    }

    #[test]
    fn a_panic_fails_its_item_and_the_pool_keeps_working() {
        let pool = ThreadPool::new(2).unwrap();
        let f = |x: u32| if x == 3 { panic!("three") } else { x };
        let out = pool.map(f, vec![3, 4]);
        assert_eq!(out, vec![Err(TaskError::Panicked("three".into())), Ok(4)]);
        assert_eq!(pool.map(|x: u32| x + 1, vec![1, 2]), vec![Ok(2), Ok(3)]);
        assert!(every_worker_is_alive(&pool));
        pool.shutdown().unwrap();
    }

    #[test]
    fn a_job_given_to_execute_that_panics_leaves_every_worker_alive() {
        let pool = ThreadPool::new(2).unwrap();
        assert!(pool.execute(|| panic!("a job")));
        assert!(every_worker_is_alive(&pool));
        assert!(matches!(pool.shutdown(), Err(PoolError::JobsPanicked(1))));
    }

    #[test]
    fn empty_input_gives_empty_output() {
        let pool = ThreadPool::new(1).unwrap();
        assert!(pool.map(|x: u8| x, Vec::new()).is_empty());
    }
}
