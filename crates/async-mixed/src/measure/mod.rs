//! Runs each step on a fresh runtime against the slow service, beside a heartbeat, and builds
//! its row: wall time, every answer checked, the heartbeat's lateness. The wait steps have no
//! service and no heartbeat: [`waits`] times them with the memory they took.
//!
//! The steps run as written: each is an `async fn` awaited here, between starting the heartbeat
//! and the clock and stopping them, so the heartbeat watches the step's tasks on the same
//! runtime. [`server`] stands in for a remote service, [`heartbeat`] is the runtime's pulse,
//! [`check`] says what makes a row right.

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use timing::{Latencies, Mechanism, Row, Stopwatch, usage_error};

use crate::LESSON;
use crate::steps::{StepError, runtime, s1_io_gather};

pub mod check;
pub mod heartbeat;
pub mod limits;
mod pilot;
pub mod server;
mod variants;
pub mod waits;

pub use heartbeat::{Heartbeat, PERIOD};
pub use pilot::{DEFAULT_STALL, Pilot, estimate};
pub use server::{DelayServer, body_for};
pub use variants::{Sizes, cpu_inline, cpu_rayon, cpu_spawn_blocking, io_gather};
pub use waits::{WaitOutcome, wait_tasks, wait_threads};

/// A step's row, and what the step returned, for the checks and the verdict to read.
#[derive(Debug)]
pub struct Measured {
    /// The row printed in the table and as JSON.
    pub row: Row,
    /// What the step computed, typed.
    pub outcome: Outcome,
}

/// What each step computed, beside what it should have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Step 1: whole bodies, of `requests`, each after `delay`.
    Gathered {
        /// Requests sent.
        requests: u64,
        /// Bodies that arrived whole.
        whole: u64,
        /// The server's delay.
        delay: Duration,
    },
    /// Steps 2 to 4: right answers, and how the heartbeat fared.
    Mixed(MixedOutcome),
    /// Steps 5 and 6: waits under way at once, and the memory they took.
    Waited(WaitOutcome),
}

/// Where a mixed step ran its CPU work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Step 2: on the runtime's workers.
    Inline,
    /// Step 3: on tokio's blocking pool.
    SpawnBlocking,
    /// Step 4: on a rayon pool.
    Rayon,
}

impl Placement {
    /// The variant's name, as `--variant` and the rows spell it.
    pub fn variant(self) -> &'static str {
        match self {
            Placement::Inline => "cpu-inline",
            Placement::SpawnBlocking => "cpu-spawn-blocking",
            Placement::Rayon => "cpu-rayon",
        }
    }
}

/// What a mixed step computed and what the heartbeat saw meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixedOutcome {
    /// Where the CPU steps ran.
    pub placement: Placement,
    /// Tasks run.
    pub tasks: u64,
    /// Tasks whose answer matched the closed form.
    pub right: u64,
    /// Threads that ran a CPU step.
    pub cpu_threads: usize,
    /// The heartbeat's lateness.
    pub beat: Beat,
    /// For an offloaded step, how its heartbeat compared with `cpu-inline`'s
    /// ([`check::against_inline`] fills it in once every step has run).
    pub offload: Option<Offload>,
}

/// The heartbeat's lateness over a step's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Beat {
    /// Median lateness.
    pub p50_ns: u64,
    /// 99th-percentile lateness.
    pub p99_ns: u64,
    /// Worst lateness.
    pub max_ns: u64,
    /// Ticks recorded (every tick due during the run).
    pub ticks: u64,
}

impl Beat {
    /// The percentiles and count of a heartbeat's record.
    pub fn of(lateness: &Latencies) -> Self {
        Self {
            p50_ns: lateness.p50_ns(),
            p99_ns: lateness.p99_ns(),
            max_ns: lateness.max_ns(),
            ticks: lateness.count(),
        }
    }
}

/// An offloaded step's heartbeat p99 against `cpu-inline`'s in the same run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offload {
    /// `cpu-inline` did not run: nothing to compare with.
    InlineDidNotRun,
    /// The sizes hold the runtime for less than [`check::STALL_FLOOR`]: no stall to compare
    /// with.
    NoStall {
        /// How long the sizes should make `cpu-inline` hold every worker.
        expected_stall: Duration,
    },
    /// At most 1/[`check::FACTOR`] of `cpu-inline`'s p99: the runtime stayed free.
    Passed {
        /// `cpu-inline`'s p99.
        inline_p99_ns: u64,
    },
    /// Above 1/[`check::FACTOR`] of `cpu-inline`'s p99: the CPU work held the runtime.
    Failed {
        /// `cpu-inline`'s p99.
        inline_p99_ns: u64,
    },
}

/// The environment variable that injects a fault, so a test can see a broken step caught.
pub const FAULT_ENV: &str = "ASYNC_MIXED_FAULT";

/// A fault a test injects through [`FAULT_ENV`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `spawn-blocking-runs-inline`: `cpu-spawn-blocking` runs step 2's inline code under its
    /// own name, the mistake its heartbeat check is there to catch.
    SpawnBlockingRunsInline,
}

impl Fault {
    /// The fault [`FAULT_ENV`] names, if set; any other value is bad input.
    pub fn from_env() -> anyhow::Result<Option<Fault>> {
        match std::env::var(FAULT_ENV) {
            Err(std::env::VarError::NotPresent) => Ok(None),
            Ok(value) if value == "spawn-blocking-runs-inline" => {
                Ok(Some(Fault::SpawnBlockingRunsInline))
            }
            Ok(value) => Err(usage_error(format!(
                "{FAULT_ENV}={value:?} names no fault: the one fault is spawn-blocking-runs-inline"
            ))),
            Err(err) => Err(usage_error(format!("{FAULT_ENV}: {err}"))),
        }
    }
}

/// Everything one step saw, timed: its value, the heartbeat's record, the wall time.
struct Watched<T> {
    value: T,
    lateness: Latencies,
    wall: Duration,
}

/// Runs `step` on a fresh runtime of `workers` workers beside a heartbeat, timing it from its
/// start to its end. `step` gets a client for the service; `delay` is what its timeout allows.
fn on_runtime<T, F, Fut>(workers: usize, delay: Duration, step: F) -> anyhow::Result<Watched<T>>
where
    F: FnOnce(reqwest::Client) -> Fut,
    Fut: Future<Output = Result<T, StepError>>,
{
    let runtime = runtime(workers).context("building the tokio runtime")?;
    runtime.block_on(async {
        let client = s1_io_gather::client(delay + Duration::from_secs(30))
            .context("building the HTTP client")?;
        let heartbeat = Heartbeat::start().await?;
        let watch = Stopwatch::start();
        let value = step(client).await?;
        let wall = watch.elapsed();
        let lateness = heartbeat.stop().await?;
        Ok(Watched {
            value,
            lateness,
            wall,
        })
    })
}

/// A row of this lesson: every step runs its tasks on an async runtime.
fn row(variant: &str, workers: usize) -> Row {
    Row::new(LESSON, variant)
        .mechanism(Mechanism::Async)
        .workers(workers)
}
