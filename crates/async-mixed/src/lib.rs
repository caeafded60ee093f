//! Many concurrent I/O waits on one `tokio` runtime, with the CPU-bound work kept off it.
//!
//! The Python original is the tutorial's last single-machine program: `asyncio.gather` over many
//! downloads, and `loop.run_in_executor(ProcessPoolExecutor(), crunch, data)` for the CPU-bound
//! part, because CPU work on the event loop freezes every other coroutine and threads would
//! not help under the GIL. Rust keeps the shape: `tokio` tasks for the waits (a `JoinSet` is
//! the `gather`), and the CPU work handed to `tokio::task::spawn_blocking` or to a `rayon` pool,
//! its answer coming back through a oneshot channel. Threads are enough here, since nothing
//! like the GIL stops them running in parallel, so no second process is needed.
//!
//! Watch for: `io-gather` finishing in about one server delay, not `--requests` of them; the
//! heartbeat's p99 and max under `cpu-inline`, many times those of `cpu-spawn-blocking` and
//! `cpu-rayon`, because a CPU step running on the runtime's worker holds up every task queued
//! there, the heartbeat included; and the note's thread count: `cpu-inline` computes on the
//! runtime's own workers, `cpu-rayon` on the pool's threads, and `cpu-spawn-blocking` on
//! blocking-pool threads, bounded by a semaphore (see its docs for what happens without one).
//!
//! Run it: `cargo run --release -p async-mixed` (add `-- --help` for the sizes).

mod driver;
mod heartbeat;
mod mixed;
mod server;
mod work;

use std::time::Duration;

use anyhow::Context as _;
use timing::{Row, Stopwatch};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

pub use heartbeat::{Heartbeat, PERIOD};
pub use mixed::{Mix, cpu_inline, cpu_rayon, cpu_spawn_blocking};
pub use server::{DelayServer, body_for};
pub use work::{sum_of_squares, sum_of_squares_closed_form};

/// The lesson's name, as the binary and every row spell it.
pub const LESSON: &str = "async-mixed";

/// Builds the multi-threaded runtime a variant runs on, with `workers` worker threads.
///
/// Built by hand rather than with `#[tokio::main]` so the reader sees what the macro hides: a
/// fixed number of worker threads polling tasks (the event loop, one per core by default), a
/// separate pool of blocking threads that `spawn_blocking` starts on demand, and the I/O and
/// timer drivers switched on. Each variant gets a fresh runtime, so one variant's leftovers
/// cannot slow the next.
pub fn runtime(workers: usize) -> anyhow::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("async-worker")
        .enable_io()
        .enable_time()
        .build()
        .context("building the tokio runtime")
}

/// An HTTP client for the local server.
///
/// `no_proxy`: an `HTTP_PROXY` in the environment must not send requests meant for 127.0.0.1
/// elsewhere. The timeout turns a server that never answers into an error instead of a hang.
/// One client is cloned into every task: clones share one connection pool.
pub fn client(delay: Duration) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(delay + Duration::from_secs(30))
        .build()
        .context("building the HTTP client")
}

/// `GET url` and the whole body.
pub async fn fetch(client: &reqwest::Client, url: &str) -> anyhow::Result<Vec<u8>> {
    let response = client.get(url).send().await?.error_for_status()?;
    Ok(response.bytes().await?.to_vec())
}

/// `io-gather`: `requests` GETs all in flight at once on one runtime, like `asyncio.gather`.
///
/// Each request is a task in a `JoinSet`; while one waits for its response, the worker runs
/// the others, so the wall time is about one server delay plus overhead, not `requests` delays.
/// Correct when every body arrived whole.
pub fn io_gather(
    server: &DelayServer,
    requests: u64,
    delay: Duration,
    workers: usize,
) -> anyhow::Result<Row> {
    let runtime = runtime(workers)?;
    let (outcomes, wall) = runtime.block_on(async {
        let client = client(delay)?;
        let watch = Stopwatch::start();
        let mut set = JoinSet::new();
        for n in 0..requests {
            let (client, url) = (client.clone(), server.url(n));
            set.spawn(async move {
                let body = fetch(&client, &url).await?;
                Ok::<_, anyhow::Error>(body == body_for(n).as_bytes())
            });
        }
        let mut outcomes = Vec::new();
        while let Some(joined) = set.join_next().await {
            outcomes.push(joined.context("a request task panicked")?);
        }
        Ok::<_, anyhow::Error>((outcomes, watch.elapsed()))
    })?;
    let whole = outcomes.iter().filter(|o| matches!(o, Ok(true))).count() as u64;
    let times_delay = wall.as_secs_f64() / delay.as_secs_f64();
    let note = match outcomes.iter().find_map(|o| o.as_ref().err()) {
        Some(err) => format!("failed: {err:#}"),
        None => format!("{times_delay:.1}x one delay"),
    };
    Ok(Row::new(LESSON, "io-gather")
        .workers(workers)
        .items(requests)
        .check(requests, whole)
        .wall(wall)
        .note(note)
        .extra("delay_ms", delay.as_millis() as u64))
}
