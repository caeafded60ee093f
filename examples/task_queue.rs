//! A job queue on apalis and SQLite, in one file: a producer puts the tutorial's `square` jobs
//! on a queue stored in a SQLite file, a worker pulls and runs them, and the producer checks
//! every result by its job's id.
//!
//! Celery's `square.delay(4)` becomes `storage.push_task(...)`, and `celery worker` becomes a
//! `WorkerBuilder` running an async function. Here both run in one process; in real use they
//! are separate programs (or machines, with `apalis-redis`) sharing the broker, and a worker
//! killed mid-job has its job run again by another once its heartbeat stops: delivery is at
//! least once, so keep jobs idempotent (results keyed by job id, as apalis stores them).
//!
//! What to watch for: the one line it prints says every job's result was found under its job
//! and checked against `n * n`; an error names the first job that was not.
//!
//! Run it with `cargo run --example task_queue`. To paste it into your own project:
//! ```toml
//! [dependencies]
//! apalis = "=1.0.0"
//! # A local file needs no TLS: without its default features apalis-sqlite has no runtime of
//! # its own, and sqlx's `runtime-tokio` gives it one.
//! apalis-sqlite = { version = "=1.0.0", default-features = false, features = ["tokio", "migrate", "json"] }
//! sqlx = { version = "0.9", default-features = false, features = ["sqlite", "runtime-tokio"] }
//! tokio = { version = "1", features = ["rt-multi-thread", "macros", "time"] }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apalis::prelude::*;
use apalis_sqlite::{Config, SqlitePool, SqliteStorage};

const JOBS: u64 = 100;

/// Results keyed by job: a job that runs twice (at-least-once delivery) overwrites its own
/// entry instead of adding a second. A std `Mutex`, not tokio's: it is never held across an
/// `.await`. (In a real deployment this is a table or a Redis hash, also keyed by job.)
type Results = Arc<Mutex<HashMap<u64, u64>>>;

/// The job handler: an ordinary async function; the job (`n`) travels as JSON.
async fn square(n: u64, results: Data<Results>) -> Result<u64, BoxDynError> {
    let value = n * n;
    // A poisoned lock means another job panicked while holding it: give up on this one too.
    results
        .lock()
        .map_err(|_| "results lock poisoned")?
        .insert(n, value);
    Ok(value)
}

#[tokio::main]
async fn main() -> Result<(), BoxDynError> {
    let dir = std::env::temp_dir().join(format!("task-queue-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(&dir.join("queue.db")).await;
    // The queue is a file: remove it (and SQLite's -wal and -shm files) whatever happened.
    std::fs::remove_dir_all(&dir)?;
    result
}

async fn run(path: &std::path::Path) -> Result<(), BoxDynError> {
    let pool = SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display())).await?;
    let result = produce_and_work(&pool).await;
    // Closed on every path before `main` removes the file (closing also merges SQLite's log).
    pool.close().await;
    result
}

async fn produce_and_work(pool: &SqlitePool) -> Result<(), BoxDynError> {
    // Creates apalis' tables (once). A queue meant to run hundreds of thousands of jobs also
    // needs SQLite's planner statistics pinned: crates/task-queue/src/sqlite_broker.rs says why.
    SqliteStorage::setup(pool).await?;

    // Name the queue: the default is the job's Rust type path, which producer and worker
    // must then spell alike. A short heartbeat makes a dead worker's jobs come back soon.
    let config = Config::default()
        .queue("squares")
        .heartbeat_interval(Duration::from_secs(1));

    // Producer: `square.delay(n)` in Celery.
    let mut producer = SqliteStorage::<u64>::new(pool).with_config(config.clone());
    for n in 0..JOBS {
        producer.push(n).await?;
    }

    // Worker: polls every 100 ms when idle (without a poll strategy it looks again only on its
    // heartbeat; much more often, each look's SQLite write lock holds off the producer), runs
    // up to 4 jobs at once, retries a failing job twice.
    let results = Results::default();
    let backend = SqliteStorage::<u64>::new(pool)
        .with_config(config)
        .poll_with_interval(Duration::from_millis(100));
    let worker = WorkerBuilder::new(format!("example-{}", std::process::id()))
        .backend(backend)
        .data(Arc::clone(&results))
        .retry(RetryPolicy::retries(2))
        .concurrency(4)
        .build(square);
    let running = tokio::spawn(worker.run());

    // Wait until every job has a result; however the wait ends, the worker is stopped and
    // waited for before the pool closes (a detached worker would write to a deleted file).
    let waited = wait_for(&results).await;
    running.abort(); // a worker waits for jobs forever; in a real program, `run_until(signal)`
    let _ = running.await; // "cancelled", or the worker's own error: the results tell the rest
    waited?;
    let results = results.lock().map_err(|_| "results lock poisoned")?;
    // An error, not an assert: a panic here would skip the removal of the queue's file.
    if let Some(n) = (0..JOBS).find(|n| results.get(n) != Some(&(n * n))) {
        return Err(format!("job {n}: result missing or wrong").into());
    }
    println!("{JOBS} jobs squared by the worker, every result checked");
    Ok(())
}

/// Waits, at most 30 s, until every job has a result.
async fn wait_for(results: &Results) -> Result<(), BoxDynError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while results.lock().map_err(|_| "results lock poisoned")?.len() < JOBS as usize {
        if tokio::time::Instant::now() > deadline {
            return Err("the jobs did not finish within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
