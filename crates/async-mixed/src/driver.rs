//! The driver the three `cpu-*` variants share: it runs `--tasks` copies of a variant's task on
//! a fresh runtime beside a heartbeat, and checks every task's answer against the closed form.
//!
//! The driver lives apart from the variants so that `mixed.rs` shows only what differs between
//! them, where the CPU step runs; and since all three go through this one function, the
//! heartbeat's numbers compare like with like.

use std::collections::HashSet;
use std::future::Future;
use std::thread::ThreadId;
use std::time::Duration;

use anyhow::Context as _;
use timing::{Latencies, Row, Stopwatch};
use tokio::task::JoinSet;

use crate::{DelayServer, Heartbeat, LESSON, Mix, client, fetch, runtime};
use crate::{sum_of_squares, sum_of_squares_closed_form};

/// What one task hands back.
#[derive(Debug)]
pub(crate) struct Done {
    /// The task's item number, as the task knew it before any I/O.
    pub(crate) item: u64,
    /// The seed its I/O step returned (the item number, read back from the body).
    pub(crate) seed: u64,
    /// Its CPU step's answer.
    pub(crate) sum: u64,
    /// The thread that ran the CPU step: a runtime worker, a blocking thread or a rayon thread.
    pub(crate) thread: ThreadId,
}

/// The I/O step: fetch item `item` and read its number back from the body's first line.
pub(crate) async fn io_step(client: &reqwest::Client, url: &str) -> anyhow::Result<u64> {
    let body = fetch(client, url).await?;
    let text = std::str::from_utf8(&body).context("the body is not UTF-8")?;
    let first = text.lines().next().unwrap_or_default();
    let seed = first.strip_prefix("item ").unwrap_or(first);
    seed.parse()
        .with_context(|| format!("no item number in {first:?}"))
}

/// The CPU step, recording which thread ran it.
pub(crate) fn cpu_step(seed: u64, work: u64) -> (u64, ThreadId) {
    (sum_of_squares(seed, work), std::thread::current().id())
}

/// Runs `tasks` copies of `task` on a fresh runtime beside a heartbeat, then checks every
/// task's answer against the closed form.
pub(crate) fn run_mixed<F, Fut>(
    variant: &str,
    server: &DelayServer,
    mix: Mix,
    workers: usize,
    task: F,
) -> anyhow::Result<Row>
where
    F: Fn(reqwest::Client, String, u64) -> Fut,
    Fut: Future<Output = anyhow::Result<Done>> + Send + 'static,
{
    let runtime = runtime(workers)?;
    let (outcomes, lateness, wall) = runtime.block_on(async {
        let client = client(mix.delay)?;
        let heartbeat = Heartbeat::start().await?;
        let watch = Stopwatch::start();
        let mut set = JoinSet::new();
        for item in 0..mix.tasks {
            set.spawn(task(client.clone(), server.url(item), item));
        }
        let mut outcomes = Vec::new();
        while let Some(joined) = set.join_next().await {
            outcomes.push(joined.with_context(|| format!("a {variant} task panicked"))?);
        }
        let wall = watch.elapsed();
        Ok::<_, anyhow::Error>((outcomes, heartbeat.stop().await?, wall))
    })?;
    Ok(mixed_row(variant, mix, workers, &outcomes, &lateness, wall))
}

/// The row of a `cpu-*` variant: every task's answer checked against the closed form, the
/// heartbeat's lateness, and how many threads ran the CPU steps.
fn mixed_row(
    variant: &str,
    mix: Mix,
    workers: usize,
    outcomes: &[anyhow::Result<Done>],
    lateness: &Latencies,
    wall: Duration,
) -> Row {
    let right =
        |d: &Done| d.seed == d.item && d.sum == sum_of_squares_closed_form(d.item, mix.work);
    let done: Vec<&Done> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    let correct = done.iter().filter(|d| right(d)).count() as u64;
    let threads: HashSet<ThreadId> = done.iter().map(|d| d.thread).collect();
    let note = match outcomes.iter().find_map(|o| o.as_ref().err()) {
        Some(err) => format!("failed: {err:#}"),
        None => format!("CPU steps ran on {} threads", threads.len()),
    };
    Row::new(LESSON, variant)
        .workers(workers)
        .items(mix.tasks)
        .check(mix.tasks, correct)
        // A heartbeat that never ticked measured nothing.
        .require(lateness.count() > 0)
        .wall(wall)
        .latencies(lateness)
        .note(note)
        .extra("cpu_threads", threads.len() as u64)
        .extra("heartbeat_ticks", lateness.count())
        .extra("work", mix.work)
}
