//! Step 4: the CPU step handed to a `rayon` pool, its answer back through a
//! `tokio::sync::oneshot` channel, like `run_in_executor(ProcessPoolExecutor(n), ..)` with
//! threads instead of processes.
//!
//! Since step 3: the pool itself is sized to the cores, so the steps queue for one of its
//! threads with no semaphore, and the same few threads serve every step.

// ANCHOR: pattern
use std::sync::Arc;

use rayon::{ThreadPool, ThreadPoolBuildError};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::StepError;
use super::s1_io_gather::item_url;
use super::s2_cpu_inline::{Done, Mixed, cpu_step, fetch_seed, join_all};

/// A rayon pool of `threads` threads, named so a profiler shows whose they are.
///
/// Its own pool, not rayon's global one: the global pool is sized once, to every core, for
/// the whole process; a pool of one's own is sized here and goes away when dropped.
pub fn pool(threads: usize) -> Result<ThreadPool, ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("rayon-{i}"))
        .build()
}

/// Runs `tasks` tasks that each fetch an item, then hand the CPU step to `pool` and await the
/// answer.
///
/// `rayon` knows nothing about `tokio`; the oneshot is the bridge: its `send` is a plain
/// function a rayon thread can call, and its receiver is a future the task awaits without
/// holding a worker.
pub async fn run(
    client: &reqwest::Client,
    base: &str,
    tasks: u64,
    work: u64,
    pool: Arc<ThreadPool>,
) -> Result<Mixed, StepError> {
    let mut set = JoinSet::new();
    for item in 0..tasks {
        let (client, url) = (client.clone(), item_url(base, item));
        let pool = Arc::clone(&pool);
        set.spawn(async move {
            let seed = fetch_seed(&client, &url).await?;
            let (tx, rx) = oneshot::channel();
            pool.spawn(move || {
                // rayon aborts the process when a `spawn`ed job panics; catching it here turns
                // the panic into a value the task reports as an error instead.
                let outcome = std::panic::catch_unwind(|| cpu_step(seed, work));
                // An error means the task stopped waiting; nobody needs the answer then.
                let _ = tx.send(outcome);
            });
            let (sum, thread) = rx
                .await
                .map_err(|_| StepError::Dropped)?
                .map_err(|payload| StepError::Panicked {
                    step: "cpu-rayon",
                    message: reaper::panic_message(payload.as_ref()),
                })?;
            Ok(Done {
                item,
                seed,
                sum,
                thread,
            })
        });
    }
    join_all("cpu-rayon", set).await
}
// ANCHOR_END: pattern
