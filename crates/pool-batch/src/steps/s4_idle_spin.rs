//! Step 4: a pool whose idle workers spin briefly before they sleep, so back-to-back maps find
//! them awake.
//!
//! Since step 3: only the workers' loop changes. A worker that finds the queue empty polls it
//! for [`IDLE_SPIN`], yielding the CPU between polls, and only then sleeps in `recv`. A bare
//! `recv` sleeps after a few microseconds, and waking a sleeping thread takes tens of
//! microseconds on a VM: more than a short map's whole work, paid at the start of every map.
//! Rayon's idle workers spin the same way before they sleep. The price is up to [`IDLE_SPIN`]
//! of an idle core's time after each burst of work, and `yield_now` hands even that to any
//! other thread that wants the core.

// ANCHOR: pattern
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError, unbounded};

use super::PoolError;
use super::s1_channel_pool::{Job, ThreadPool, run_job};

/// How long an idle worker keeps looking for the next job before it sleeps.
pub const IDLE_SPIN: Duration = Duration::from_micros(100);

/// The next job, or `None` once the pool is shut down and the queue is empty.
fn next_job(queue: &Receiver<Job>) -> Option<Job> {
    let idle_since = Instant::now();
    loop {
        match queue.try_recv() {
            Ok(job) => return Some(job),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if idle_since.elapsed() >= IDLE_SPIN => {
                return queue.recv().ok();
            }
            Err(TryRecvError::Empty) => thread::yield_now(),
        }
    }
}

impl ThreadPool {
    /// Like [`ThreadPool::new`], but idle workers spin for [`IDLE_SPIN`] before they sleep.
    pub fn with_idle_spin(workers: usize) -> Result<Self, PoolError> {
        let (jobs, queue) = unbounded::<Job>();
        let mut pool = Self {
            jobs: Some(jobs),
            workers: Vec::new(),
            panicked: Arc::default(),
        };
        for id in 0..workers.max(1) {
            let (queue, panicked) = (queue.clone(), Arc::clone(&pool.panicked));
            let worker = thread::Builder::new()
                .name(format!("pool-worker-{id}"))
                .spawn(move || {
                    while let Some(job) = next_job(&queue) {
                        run_job(job, &panicked);
                    }
                })?;
            pool.workers.push(worker);
        }
        Ok(pool)
    }
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::s1_channel_pool::tests::every_worker_is_alive;

    #[test]
    fn a_spinning_pool_maps_and_shuts_down_like_any_other() {
        let pool = ThreadPool::with_idle_spin(2).unwrap();
        for _ in 0..3 {
            let out = pool.map_tuned(|x: u64| x + 1, (0..100).collect(), 7);
            assert!(out.iter().zip(1..).all(|(r, want)| r == &Ok(want)));
            // Idle past the spin, so the next map must wake sleeping workers.
            thread::sleep(IDLE_SPIN * 3);
        }
        pool.shutdown().unwrap();
    }

    #[test]
    fn a_job_that_panics_leaves_every_spinning_worker_alive() {
        let pool = ThreadPool::with_idle_spin(2).unwrap();
        assert!(pool.execute(|| panic!("a job")));
        assert!(every_worker_is_alive(&pool));
        assert!(matches!(pool.shutdown(), Err(PoolError::JobsPanicked(1))));
    }

    #[test]
    fn an_idle_worker_sees_the_queue_close() {
        let (jobs, queue) = unbounded::<Job>();
        drop(jobs);
        assert!(next_job(&queue).is_none());
    }
}
