//! The mixed workload three ways: `--tasks` tasks that each await an HTTP response and then do
//! a CPU-bound step, while a heartbeat task tries to run every millisecond.
//!
//! The three variants differ only in where the CPU step runs; the driver that runs the tasks
//! beside the heartbeat and checks their answers is the same for all of them (`driver.rs`), so
//! the heartbeat's numbers compare like with like.

use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use timing::Row;
use tokio::sync::{Semaphore, oneshot};

use crate::DelayServer;
use crate::driver::{Done, cpu_step, io_step, run_mixed};

/// The sizes of the mixed workload.
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    /// How many tasks (each one request, then one CPU step).
    pub tasks: u64,
    /// Iterations of each CPU step (squares summed).
    pub work: u64,
    /// The server's delay, which the client's timeout allows for.
    pub delay: std::time::Duration,
}

/// `cpu-inline`, the classic mistake: the CPU step runs right inside the async task.
///
/// Nothing stops it compiling: a long computation is just code between two `.await`s. But a
/// task gives its worker back only at an `.await`, so for the whole step that worker polls
/// nothing else. With every worker inside a step, no task runs at all, timers and sockets
/// included. And it is worse than one step long: a worker looks at the timers only between
/// polls, and mostly when it runs out of ready tasks, so while ready tasks full of CPU work
/// keep coming, the heartbeat can wait for the whole CPU phase (the max shows it). It is
/// Python's CPU work on the event loop; only the number of loops (workers) differs.
pub fn cpu_inline(server: &DelayServer, mix: Mix, workers: usize) -> anyhow::Result<Row> {
    run_mixed(
        "cpu-inline",
        server,
        mix,
        workers,
        move |client, url, item| async move {
            let seed = io_step(&client, &url).await?;
            let (sum, thread) = cpu_step(seed, mix.work);
            Ok(Done {
                item,
                seed,
                sum,
                thread,
            })
        },
    )
}

/// `cpu-spawn-blocking`: the CPU step goes to `tokio::task::spawn_blocking`, and the task awaits
/// its `JoinHandle`, like `await loop.run_in_executor(None, crunch)`; a semaphore lets at most
/// `workers` steps run at once.
///
/// What changed from `cpu-inline`: the step runs on a thread of the runtime's *blocking* pool,
/// so the worker is free again at once and the heartbeat stays on time. Why the semaphore: the
/// blocking pool is sized for blocking I/O (up to 512 threads), so without it every step that
/// is waiting for a core gets a thread of its own, and the kernel time-slices them all with the
/// runtime's workers. Measured here on two cores with 32 steps: 24 to 32 threads, and a
/// heartbeat p99 of 90 to 230 ms, only a few times better than `cpu-inline`. Tokio's own
/// documentation of `spawn_blocking` says the same: bound CPU work with a semaphore, or use a
/// pool like rayon.
/// The permit is acquired *before* `spawn_blocking`, asynchronously, so waiting for it holds no
/// thread at all.
pub fn cpu_spawn_blocking(server: &DelayServer, mix: Mix, workers: usize) -> anyhow::Result<Row> {
    let cores = Arc::new(Semaphore::new(workers));
    run_mixed(
        "cpu-spawn-blocking",
        server,
        mix,
        workers,
        move |client, url, item| {
            let cores = Arc::clone(&cores);
            async move {
                let seed = io_step(&client, &url).await?;
                // The semaphore is never closed, so `acquire_owned` cannot fail.
                let permit = cores.acquire_owned().await.context("semaphore closed")?;
                let step = tokio::task::spawn_blocking(move || {
                    let answer = cpu_step(seed, mix.work);
                    // Released on the blocking thread as the step ends, not when the task next
                    // runs, so the next step can start while this task waits for a worker.
                    drop(permit);
                    answer
                });
                // A panic in the closure comes back as a `JoinError` here, not a silent loss.
                let (sum, thread) = step.await.context("a CPU step panicked")?;
                Ok(Done {
                    item,
                    seed,
                    sum,
                    thread,
                })
            }
        },
    )
}

/// `cpu-rayon`: the CPU step goes to a `rayon` pool of `workers` threads, its answer back
/// through a `tokio::sync::oneshot` channel, like `run_in_executor(ProcessPoolExecutor(n), ..)`
/// with threads instead of processes.
///
/// What changed from `cpu-spawn-blocking`: the pool itself is sized to the cores, so the steps
/// queue for one of its threads with no semaphore, and the same threads serve every step.
/// `rayon` knows nothing about `tokio`; the oneshot is the bridge: its `send` is a plain
/// function a rayon thread can call, and its receiver is a future the task awaits without
/// holding a worker.
pub fn cpu_rayon(server: &DelayServer, mix: Mix, workers: usize) -> anyhow::Result<Row> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|i| format!("rayon-{i}"))
        .build()
        .context("building the rayon pool")?;
    let pool = Arc::new(pool);
    run_mixed(
        "cpu-rayon",
        server,
        mix,
        workers,
        move |client, url, item| {
            let pool = Arc::clone(&pool);
            async move {
                let seed = io_step(&client, &url).await?;
                let (tx, rx) = oneshot::channel();
                pool.spawn(move || {
                    // rayon aborts the process when a `spawn`ed job panics; catching it here turns
                    // the panic into a value the task reports as an error instead.
                    let outcome = std::panic::catch_unwind(|| cpu_step(seed, mix.work));
                    // An error means the task stopped waiting; nobody needs the answer then.
                    let _ = tx.send(outcome);
                });
                let (sum, thread) = rx
                    .await
                    .context("the rayon pool dropped a CPU step")?
                    .map_err(|_| anyhow!("a CPU step panicked"))?;
                Ok(Done {
                    item,
                    seed,
                    sum,
                    thread,
                })
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const MIX: Mix = Mix {
        tasks: 6,
        work: 2_000,
        delay: Duration::from_millis(2),
    };

    #[test]
    fn every_variant_checks_out_against_the_closed_form() {
        let server = DelayServer::start(MIX.delay).unwrap();
        for variant in [cpu_inline, cpu_spawn_blocking, cpu_rayon] {
            let row = variant(&server, MIX, 2).unwrap();
            assert!(row.correct, "{row:?}");
            assert_eq!(row.result, MIX.tasks);
            assert!(row.p99_ns.is_some());
        }
        server.shutdown().unwrap();
    }

    #[test]
    fn rayon_runs_cpu_steps_on_its_own_threads_only() {
        let server = DelayServer::start(MIX.delay).unwrap();
        let row = cpu_rayon(&server, MIX, 1).unwrap();
        assert_eq!(row.extra["cpu_threads"], 1);
        server.shutdown().unwrap();
    }
}
