//! Step 8: the yardstick: rayon's `par_iter().map().collect()`, no pool of our own.
//!
//! Since steps 3 and 4: no message per item or per chunk at all. Rayon splits the slice in halves,
//! keeps them on per-worker deques, and an idle worker *steals* a half from a busy one, so work
//! moves between threads only when a thread runs dry; `collect` writes every result straight
//! into its place in the output, from every worker at once.

// ANCHOR: pattern
use rayon::prelude::*;

use super::{PoolError, Results, run_caught};

/// A rayon pool of `workers` threads: a pool of its own, not rayon's global one, so that
/// `--workers` means the same here as for our pools.
pub fn pool(workers: usize) -> Result<rayon::ThreadPool, PoolError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers.max(1))
        .build()
        .map_err(|e| PoolError::Spawn(std::io::Error::other(e)))
}

/// Maps `f` over `items` on `pool`, results in input order; as in our pools, a task that
/// panics becomes that item's error.
pub fn map<F>(pool: &rayon::ThreadPool, f: F, items: &[u64]) -> Results<u64>
where
    F: Fn(u64) -> u64 + Send + Sync,
{
    pool.install(|| items.par_iter().map(|&x| run_caught(&f, x)).collect())
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::TaskError;

    #[test]
    fn results_come_back_in_order_and_a_panic_fails_its_item() {
        let f = |x: u64| if x == 3 { panic!("three") } else { x * x };
        let out = map(&pool(2).unwrap(), f, &[1, 2, 3, 4]);
        let panicked = Err(TaskError::Panicked("three".into()));
        assert_eq!(out, [Ok(1), Ok(4), panicked, Ok(16)]);
    }
}
