//! The six variants, each a complete run of the same items through one way of pooling, returned
//! as a measured, checked row.

use rayon::prelude::*;
use timing::{Row, Stopwatch};

use crate::check::{batch_row, checked};
use crate::pool::{PoolError, ThreadPool};
use crate::process::{ProcessPool, WorkerCommand};
use crate::results::run_caught;
use crate::task::{Job, items};

/// The lesson's name, as rows and `--json` carry it.
pub const LESSON: &str = "pool-batch";

/// What every variant is run with.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Worker threads or processes.
    pub workers: usize,
    /// Items for the map variants: `1..=items`.
    pub items: u64,
    /// Items per message for the chunked variants.
    pub chunk: usize,
    /// Batches of `2 * workers` items for the two batch variants.
    pub batches: u64,
    /// The task and any injected panic.
    pub job: Job,
    /// Hidden test flag: process workers kill themselves at this item.
    pub kill_at: Option<u64>,
    /// Seconds one thread needs per task with no pool, measured once per run.
    pub sequential_per_task_s: f64,
}

impl Setup {
    /// The tutorial's batch size: twice the number of workers.
    pub fn batch_size(&self) -> u64 {
        2 * self.workers as u64
    }
}

/// One item a message through the hand-built pool: Python's `Pool.map(f, items, chunksize=1)`.
pub fn thread_pool(setup: &Setup) -> Result<Row, PoolError> {
    let pool = ThreadPool::new(setup.workers)?;
    let (items, job) = (items(setup.items), setup.job);
    let (results, wall) = Stopwatch::time(|| pool.map(move |x| job.run(x), items));
    pool.shutdown()?;
    Ok(checked(
        setup,
        "thread-pool",
        setup.items,
        &results,
        wall.as_secs_f64(),
        &[],
    ))
}

/// `--chunk` items a message through the same pool: the two channel operations per message are
/// now shared by a whole chunk. Python's `chunksize`.
pub fn thread_pool_chunked(setup: &Setup) -> Result<Row, PoolError> {
    let pool = ThreadPool::new(setup.workers)?;
    let (items, job) = (items(setup.items), setup.job);
    let (results, wall) =
        Stopwatch::time(|| pool.map_chunked(move |x| job.run(x), items, setup.chunk));
    pool.shutdown()?;
    let row = checked(
        setup,
        "thread-pool-chunked",
        setup.items,
        &results,
        wall.as_secs_f64(),
        &[],
    );
    Ok(row.extra("chunk", setup.chunk))
}

/// The chunked map over worker processes: every chunk is serialised to JSON, written down a
/// pipe, parsed, computed, and its results make the same trip back. Worker start-up is timed
/// apart (`pool_start_s`), as a long-lived pool pays it once.
pub fn process_pool(setup: &Setup, command: WorkerCommand) -> Result<Row, PoolError> {
    let (pool, start) = Stopwatch::time(|| ProcessPool::new(setup.workers, command));
    let mut pool = pool?;
    let items = items(setup.items);
    let (outcome, wall) = Stopwatch::time(|| pool.map(&items, setup.chunk));
    let outcome = outcome?;
    drop(pool);
    let injected: Vec<u64> = setup.kill_at.into_iter().collect();
    let row = checked(
        setup,
        "process-pool",
        setup.items,
        &outcome.results,
        wall.as_secs_f64(),
        &injected,
    );
    Ok(row
        .extra("chunk", setup.chunk)
        .extra("pool_start_s", start.as_secs_f64())
        .extra("replaced_workers", outcome.replaced))
}

/// The tutorial's batching: a new pool for every batch of `2 * workers` items, started and
/// joined each time. The wall time includes every pool's start and stop, as the tutorial pays.
///
/// The pools here are threads, the cheapest kind there is; the tutorial's `Pool` is processes,
/// and a new process pool per batch pays the process-pool row's `pool_start_s` every batch
/// (the verdict says how much that would add).
pub fn batch_new_pool_each(setup: &Setup) -> Result<Row, PoolError> {
    let (all, job) = (items(setup.batches * setup.batch_size()), setup.job);
    let watch = Stopwatch::start();
    let mut results = Vec::with_capacity(all.len());
    for batch in all.chunks(setup.batch_size() as usize) {
        let pool = ThreadPool::new(setup.workers)?;
        results.extend(pool.map(move |x| job.run(x), batch.to_vec()));
        pool.shutdown()?;
    }
    let wall = watch.elapsed().as_secs_f64();
    Ok(batch_row(setup, "batch-new-pool-each", &results, wall))
}

/// Batching done right: one pool, started once, maps every batch. What changed since
/// `batch-new-pool-each`: the pool moved out of the loop.
pub fn batch_one_pool(setup: &Setup) -> Result<Row, PoolError> {
    let (all, job) = (items(setup.batches * setup.batch_size()), setup.job);
    let watch = Stopwatch::start();
    let pool = ThreadPool::new(setup.workers)?;
    let mut results = Vec::with_capacity(all.len());
    for batch in all.chunks(setup.batch_size() as usize) {
        results.extend(pool.map(move |x| job.run(x), batch.to_vec()));
    }
    pool.shutdown()?;
    let wall = watch.elapsed().as_secs_f64();
    Ok(batch_row(setup, "batch-one-pool", &results, wall))
}

/// The yardstick: `rayon`'s `par_iter().map()` on a pool of `--workers` threads. Rayon splits
/// the slice in halves and workers steal halves from each other, so there is no message per
/// item and no shared queue to contend on.
pub fn rayon(setup: &Setup) -> Result<Row, PoolError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(setup.workers)
        .build()
        .map_err(|e| PoolError::Spawn(std::io::Error::other(e)))?;
    let (items, job) = (items(setup.items), setup.job);
    let (results, wall) = Stopwatch::time(|| {
        pool.install(|| {
            items
                .par_iter()
                // As in our pool: a panicking task becomes this item's error.
                .map(|&x| run_caught(&|x| job.run(x), x))
                .collect::<Vec<_>>()
        })
    });
    Ok(checked(
        setup,
        "rayon",
        setup.items,
        &results,
        wall.as_secs_f64(),
        &[],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::Task;

    fn setup(panic_at: Option<u64>) -> Setup {
        Setup {
            workers: 2,
            items: 500,
            chunk: 7,
            batches: 5,
            job: Job {
                task: Task::Square,
                panic_at,
            },
            kill_at: None,
            sequential_per_task_s: 1e-9,
        }
    }

    #[test]
    fn every_thread_variant_is_correct() {
        for s in [setup(None), setup(Some(3))] {
            for row in [
                thread_pool(&s).unwrap(),
                thread_pool_chunked(&s).unwrap(),
                batch_new_pool_each(&s).unwrap(),
                batch_one_pool(&s).unwrap(),
                rayon(&s).unwrap(),
            ] {
                assert!(row.correct, "{}", row.to_json());
            }
        }
    }
}
