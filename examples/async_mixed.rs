//! CPU-bound work inside async code, kept off the runtime with `tokio::task::spawn_blocking`.
//!
//! Python's answer is `await loop.run_in_executor(pool, crunch, data)`. In tokio, a task that
//! computes for 20 ms between two `.await`s holds its worker thread for those 20 ms, and every
//! other task on that worker (timers, sockets) waits. `spawn_blocking` moves the computation to
//! the runtime's blocking pool and gives the task a future to await instead. A semaphore bounds
//! how many computations run at once: the blocking pool is sized for blocking I/O (hundreds of
//! threads), and tokio's docs ask for a bound when the work is CPU-bound.
//!
//! Watch for: every answer checked against the closed form, and the heartbeat's worst lateness
//! staying well under one CPU step while the CPU work runs. Move the `sum_of_squares` call out
//! of `spawn_blocking` into the task itself to see the heartbeat stall. The `async-mixed`
//! lesson's steps 2 and 3 are this program with a real HTTP request as the I/O step.
//!
//! Run it: `cargo run --release --features tokio --example async_mixed` (the feature brings in
//! tokio, which only this example and `task_queue` need; `just example async_mixed` adds it)
//!
//! To copy it into your own project, its `[dependencies]`:
//! ```toml
//! [dependencies]
//! tokio = { version = "1", features = ["rt-multi-thread", "time", "sync"] }
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

const TASKS: u64 = 16;
const WORK: u64 = 20_000_000; // milliseconds a step in a release build, far more in a debug one

/// Σ k² for k in start..start+work, one term at a time (`black_box` stops LLVM from turning
/// the loop into the closed form).
fn sum_of_squares(start: u64, work: u64) -> u64 {
    (start..start + work).fold(0u64, |sum, k| {
        let k = black_box(k);
        sum.wrapping_add(k.wrapping_mul(k))
    })
}

/// The same sum from (n-1)·n·(2n-1)/6, in u128, truncated as the loop wraps.
fn closed_form(start: u64, work: u64) -> u64 {
    let below = |n: u128| {
        if n == 0 {
            0
        } else {
            (n - 1) * n * (2 * n - 1) / 6
        }
    };
    (below(u128::from(start + work)) - below(u128::from(start))) as u64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    // What `#[tokio::main]` would build, spelled out.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_time()
        .build()?;
    runtime.block_on(async {
        // The heartbeat wants to run every millisecond and keeps its worst lateness. Relaxed is
        // enough: the value is read after `abort` and a join, which order everything before.
        let worst_ns = Arc::new(AtomicU64::new(0));
        let worst = Arc::clone(&worst_ns);
        let heartbeat = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(Duration::from_millis(1));
            // Burst: after a stall every overdue tick fires, each reporting its own lateness.
            ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
            loop {
                let scheduled = ticks.tick().await;
                let late = Instant::now().saturating_duration_since(scheduled);
                worst.fetch_max(late.as_nanos() as u64, Ordering::Relaxed);
            }
        });

        let cores = Arc::new(Semaphore::new(workers));
        let mut tasks = JoinSet::new();
        for seed in 0..TASKS {
            let cores = Arc::clone(&cores);
            tasks.spawn(async move {
                // The I/O step (a request, a query): here, a plain async wait.
                tokio::time::sleep(Duration::from_millis(20)).await;
                // Waiting for a permit is async: it holds no thread. The semaphore is never
                // closed, so `acquire_owned` cannot fail.
                let permit = cores.acquire_owned().await.expect("semaphore never closed");
                let sum = tokio::task::spawn_blocking(move || {
                    let sum = sum_of_squares(seed, WORK);
                    drop(permit); // free the core for the next step as soon as this one ends
                    sum
                })
                .await?; // a panic in the closure arrives here as a JoinError
                Ok::<_, tokio::task::JoinError>((seed, sum))
            });
        }

        let mut right = 0;
        while let Some(joined) = tasks.join_next().await {
            let (seed, sum) = joined??; // the task's own panic, then its step's
            right += u64::from(sum == closed_form(seed, WORK));
        }
        heartbeat.abort();
        let _ = heartbeat.await; // wait until it is really gone: Err(cancelled) is expected
        let worst = Duration::from_nanos(worst_ns.load(Ordering::Relaxed));
        println!("{right} of {TASKS} answers match the closed form");
        println!("worst heartbeat lateness: {worst:?}");
        if right == TASKS {
            Ok(())
        } else {
            Err("a wrong answer".into())
        }
    })
}
