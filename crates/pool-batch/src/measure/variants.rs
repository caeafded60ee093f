//! One function per variant: starts what the step needs, times the step, checks its results.

use timing::Stopwatch;

use super::check::checked;
use super::{Measured, Setup, Timed, Variant};
use crate::steps::s1_channel_pool::ThreadPool;
use crate::steps::s5_worker_process::WorkerCommand;
use crate::steps::s6_process_pool::ProcessPool;
use crate::steps::{PoolError, s7_batches, s8_rayon};
use crate::task::items;

/// Runs and times `variant`.
pub(super) fn run(
    variant: Variant,
    setup: &Setup,
    command: &WorkerCommand,
) -> Result<Measured, PoolError> {
    match variant {
        Variant::ThreadPool | Variant::ThreadPoolChunked | Variant::ThreadPoolTuned => {
            thread_pool(variant, setup)
        }
        Variant::ProcessPool => process_pool(setup, command),
        Variant::BatchNewPoolEach
        | Variant::BatchOnePool
        | Variant::ProcessBatchNewPoolEach
        | Variant::ProcessBatchOnePool => batches(variant, setup, command),
        Variant::Rayon => rayon(setup),
    }
}

/// Steps 1 to 4 on a pool started before the clock: a long-lived pool pays its start once.
fn thread_pool(variant: Variant, setup: &Setup) -> Result<Measured, PoolError> {
    let pool = match variant {
        Variant::ThreadPoolTuned => ThreadPool::with_idle_spin(setup.workers)?,
        _ => ThreadPool::new(setup.workers)?,
    };
    let (items, job, chunk) = (items(setup.items), setup.job, setup.chunk);
    let f = move |x| job.run(x);
    let (results, wall) = Stopwatch::time(|| match variant {
        Variant::ThreadPool => pool.map(f, items),
        Variant::ThreadPoolChunked => pool.map_chunked(f, items, chunk),
        _ => pool.map_tuned(f, items, chunk),
    });
    pool.shutdown()?;
    let measured = checked(setup, variant, Timed { results, wall }, &[], None);
    Ok(match variant {
        Variant::ThreadPool => measured,
        _ => measured.with("chunk", setup.chunk),
    })
}

/// Step 6, with the workers' start timed apart (`pool_start_s`), as a long-lived pool pays it
/// once.
fn process_pool(setup: &Setup, command: &WorkerCommand) -> Result<Measured, PoolError> {
    let (pool, start) = Stopwatch::time(|| ProcessPool::new(setup.workers, command.clone()));
    let mut pool = pool?;
    let items = items(setup.items);
    let (mapped, wall) = Stopwatch::time(|| pool.map(&items, setup.chunk));
    let mapped = mapped?;
    drop(pool);
    let timed = Timed {
        results: mapped.results,
        wall,
    };
    let injected: Vec<u64> = setup.kill_at.into_iter().collect();
    let measured = checked(setup, Variant::ProcessPool, timed, &injected, Some(start));
    Ok(measured
        .with("chunk", setup.chunk)
        .with("pool_start_s", start.as_secs_f64())
        .with("replaced_workers", mapped.replaced))
}

/// Step 7: the wall time includes every pool's start and stop, as the tutorial pays.
fn batches(
    variant: Variant,
    setup: &Setup,
    command: &WorkerCommand,
) -> Result<Measured, PoolError> {
    let (all, job) = (items(setup.items_of(variant)), setup.job);
    let (workers, size) = (setup.workers, setup.batch_size() as usize);
    let f = move |x| job.run(x);
    let watch = Stopwatch::start();
    let (results, replaced) = match variant {
        Variant::BatchNewPoolEach => (
            s7_batches::threads_new_pool_each(workers, f, &all, size)?,
            None,
        ),
        Variant::BatchOnePool => (s7_batches::threads_one_pool(workers, f, &all, size)?, None),
        Variant::ProcessBatchNewPoolEach => {
            let mapped = s7_batches::processes_new_pool_each(workers, command, &all, size)?;
            (mapped.results, Some(mapped.replaced))
        }
        _ => {
            let mapped = s7_batches::processes_one_pool(workers, command, &all, size)?;
            (mapped.results, Some(mapped.replaced))
        }
    };
    let wall = watch.elapsed();
    let injected: Vec<u64> = setup
        .kill_at
        .filter(|_| variant.processes())
        .into_iter()
        .collect();
    let measured = checked(setup, variant, Timed { results, wall }, &injected, None)
        .with("batches", setup.batches)
        .with("batch_size", setup.batch_size())
        .with("per_batch_s", wall.as_secs_f64() / setup.batches as f64);
    Ok(match replaced {
        Some(replaced) => measured.with("replaced_workers", replaced),
        None => measured,
    })
}

/// Step 8 on a rayon pool built before the clock, as ours are.
fn rayon(setup: &Setup) -> Result<Measured, PoolError> {
    let pool = s8_rayon::pool(setup.workers)?;
    let (items, job) = (items(setup.items), setup.job);
    let (results, wall) = Stopwatch::time(|| s8_rayon::map(&pool, move |x| job.run(x), &items));
    Ok(checked(
        setup,
        Variant::Rayon,
        Timed { results, wall },
        &[],
        None,
    ))
}

impl Measured {
    /// Adds a lesson-specific field to the row.
    fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.row = self.row.extra(key, value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{Job, Task};

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
        // The process variants re-execute the lesson's binary: the end-to-end tests run them.
        let unused = WorkerCommand {
            program: "/nonexistent".into(),
            args: Vec::new(),
        };
        for s in [setup(None), setup(Some(3))] {
            for variant in <Variant as clap::ValueEnum>::value_variants() {
                if variant.processes() {
                    continue;
                }
                let m = run(*variant, &s, &unused).unwrap();
                assert!(m.row.correct, "{}", m.row.to_json());
                assert_eq!(
                    m.outcome.failed,
                    s.job.panic_at.into_iter().collect::<Vec<_>>()
                );
            }
        }
    }
}
