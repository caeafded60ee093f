//! Step 3: the CPU step handed to `tokio::task::spawn_blocking`, at most `cores` at once; the
//! task awaits its answer, like `await loop.run_in_executor(None, crunch)`.
//!
//! Since step 2: the sum runs on a thread of the runtime's *blocking* pool, so the worker is
//! free again at the task's next `.await`, and the heartbeat stays on time. A semaphore bounds
//! how many sums run at once.

// ANCHOR: pattern
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::s1_io_gather::item_url;
use super::s2_cpu_inline::{Done, Mixed, cpu_step, fetch_seed, join_all};
use super::{StepError, panicked};

/// Runs `tasks` tasks that each fetch an item, then hand the CPU step to `spawn_blocking`, at
/// most `cores` steps running at once.
///
/// Why the semaphore: the blocking pool is sized for blocking I/O (up to 512 threads), so
/// without it every step waiting for a core gets a thread of its own, and the kernel
/// time-slices them all with the runtime's workers, which then wait for a core as the heartbeat
/// does. Tokio's own documentation of `spawn_blocking` says the same: bound CPU work with a
/// semaphore, or use a pool like rayon (step 4).
pub async fn run(
    client: &reqwest::Client,
    base: &str,
    tasks: u64,
    work: u64,
    cores: usize,
) -> Result<Mixed, StepError> {
    // `tokio::sync::Semaphore`, not a blocking one: waiting for a permit is an `.await`, so a
    // task waiting for a core holds no thread at all.
    let cores = Arc::new(Semaphore::new(cores));
    let mut set = JoinSet::new();
    for item in 0..tasks {
        let (client, url) = (client.clone(), item_url(base, item));
        let cores = Arc::clone(&cores);
        set.spawn(async move {
            let seed = fetch_seed(&client, &url).await?;
            // The semaphore is never closed, so `acquire_owned` cannot fail.
            let permit = cores
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let step = tokio::task::spawn_blocking(move || {
                let answer = cpu_step(seed, work);
                // Released on the blocking thread as the step ends, not when the task next
                // runs, so the next step can start while this task waits for a worker.
                drop(permit);
                answer
            });
            // A panic in the closure comes back here as a `JoinError`, not a silent loss.
            let (sum, thread) = step
                .await
                .map_err(|err| panicked("cpu-spawn-blocking", err))?;
            Ok(Done {
                item,
                seed,
                sum,
                thread,
            })
        });
    }
    join_all("cpu-spawn-blocking", set).await
}
// ANCHOR_END: pattern
