//! Step 7: the tutorial's batches, a new pool for every batch of `2 × workers` items, beside one
//! pool made once for every batch; on threads and on processes.
//!
//! Since step 6: the pools are the ones of steps 1 and 6, unchanged; what moves is the line
//! that makes the pool. The tutorial's answer to "more tasks than cores" is
//! `for batch in batches: with Pool() as pool: pool.map(square, batch)`, which starts and stops
//! every worker for every batch: a thread start and join each on threads, a process start and
//! reap each on processes, either of which dwarfs squaring a batch's few numbers. Made before
//! the loop, the pool pays that once, and the batches cost only their items.
//!
//! Every batch is mapped one item a message on both kinds of pool: it is what `Pool.map`'s
//! default `chunksize` comes to for a batch this small (`ceil(2w / 4w) = 1`).

// ANCHOR: pattern
use super::s1_channel_pool::ThreadPool;
use super::s5_worker_process::WorkerCommand;
use super::s6_process_pool::{ProcessMap, ProcessPool};
use super::{PoolError, Results};

/// The tutorial's loop on threads: a new pool of `workers` threads for every batch.
pub fn threads_new_pool_each<F>(
    workers: usize,
    f: F,
    items: &[u64],
    batch: usize,
) -> Result<Results<u64>, PoolError>
where
    F: Fn(u64) -> u64 + Clone + Send + Sync + 'static,
{
    let mut results = Vec::with_capacity(items.len());
    for batch in items.chunks(batch.max(1)) {
        let pool = ThreadPool::new(workers)?;
        results.extend(pool.map(f.clone(), batch.to_vec()));
        pool.shutdown()?; // joins every worker: the cost this step is about
    }
    Ok(results)
}

/// Batching done right on threads: one pool, made before the loop, maps every batch.
pub fn threads_one_pool<F>(
    workers: usize,
    f: F,
    items: &[u64],
    batch: usize,
) -> Result<Results<u64>, PoolError>
where
    F: Fn(u64) -> u64 + Clone + Send + Sync + 'static,
{
    let mut results = Vec::with_capacity(items.len());
    let pool = ThreadPool::new(workers)?;
    for batch in items.chunks(batch.max(1)) {
        results.extend(pool.map(f.clone(), batch.to_vec()));
    }
    pool.shutdown()?;
    Ok(results)
}

/// The tutorial's loop as the tutorial runs it, on processes: a new pool of `workers` worker
/// processes for every batch, every one of them started, and reaped when the pool drops.
pub fn processes_new_pool_each(
    workers: usize,
    command: &WorkerCommand,
    items: &[u64],
    batch: usize,
) -> Result<ProcessMap, PoolError> {
    let mut all = ProcessMap {
        results: Vec::with_capacity(items.len()),
        replaced: 0,
    };
    for batch in items.chunks(batch.max(1)) {
        let mut pool = ProcessPool::new(workers, command.clone())?;
        let mapped = pool.map(batch, 1)?;
        drop(pool); // ends and reaps every worker: the cost this step is about
        all.results.extend(mapped.results);
        all.replaced += mapped.replaced;
    }
    Ok(all)
}

/// Batching done right on processes: one process pool, started once, maps every batch.
pub fn processes_one_pool(
    workers: usize,
    command: &WorkerCommand,
    items: &[u64],
    batch: usize,
) -> Result<ProcessMap, PoolError> {
    let mut all = ProcessMap {
        results: Vec::with_capacity(items.len()),
        replaced: 0,
    };
    let mut pool = ProcessPool::new(workers, command.clone())?;
    for batch in items.chunks(batch.max(1)) {
        let mapped = pool.map(batch, 1)?;
        all.results.extend(mapped.results);
        all.replaced += mapped.replaced;
    }
    Ok(all)
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_thread_batchings_answer_every_item_in_order() {
        let items: Vec<u64> = (1..=50).collect();
        let want: Results<u64> = items.iter().map(|x| Ok(x * x)).collect();
        let square = |x: u64| x * x;
        assert_eq!(threads_new_pool_each(2, square, &items, 4).unwrap(), want);
        assert_eq!(threads_one_pool(2, square, &items, 4).unwrap(), want);
        assert!(threads_one_pool(2, square, &[], 4).unwrap().is_empty());
    }
}
