//! Times each step and builds its row: wall time, rate, the checked sum and the per-task
//! overhead, plus what the verdict reads, typed.
//!
//! A pool's start is kept out of the timed span where a long-lived pool would pay it once (the
//! map variants), and kept in where paying it is the point (the batch variants).

use std::time::Duration;

use anyhow::Context as _;
use clap::ValueEnum;
use timing::{Mechanism, Row, Stopwatch};

use crate::steps::s5_worker_process::WorkerCommand;
use crate::steps::s6_process_pool::ProcessPool;
use crate::steps::{PoolError, Results};
use crate::task::Job;

mod check;
mod variants;

pub use check::sequential_per_task;

/// The lesson's variants, in the order the lesson builds them up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Variant {
    /// Step 1: the channel pool, one item a job.
    ThreadPool,
    /// Step 2: the same pool, `--chunk` items a job.
    ThreadPoolChunked,
    /// Steps 3 and 4: the tuned chunked map on workers that spin when idle.
    ThreadPoolTuned,
    /// Step 6: worker processes, `--chunk` items a message.
    ProcessPool,
    /// Step 7: a new thread pool for every batch.
    BatchNewPoolEach,
    /// Step 7: one thread pool for every batch.
    BatchOnePool,
    /// Step 7: a new process pool for every batch, as the tutorial does.
    ProcessBatchNewPoolEach,
    /// Step 7: one process pool for every batch.
    ProcessBatchOnePool,
    /// Step 8: rayon, the yardstick.
    Rayon,
}

impl Variant {
    /// The name rows and `--variant` use.
    pub fn name(self) -> String {
        // `None` only for variants marked `#[value(skip)]`: none are.
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }

    /// What does this variant's work.
    pub fn mechanism(self) -> Mechanism {
        if self.processes() {
            Mechanism::Processes
        } else {
            Mechanism::Threads
        }
    }

    /// Whether this variant runs worker processes.
    pub fn processes(self) -> bool {
        use Variant::*;
        matches!(
            self,
            ProcessPool | ProcessBatchNewPoolEach | ProcessBatchOnePool
        )
    }

    /// Whether this variant maps the batches rather than `--items`.
    pub fn batched(self) -> bool {
        use Variant::*;
        matches!(
            self,
            BatchNewPoolEach | BatchOnePool | ProcessBatchNewPoolEach | ProcessBatchOnePool
        )
    }
}

/// What every variant is run with.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Worker threads or processes.
    pub workers: usize,
    /// Items for the map variants: `1..=items`.
    pub items: u64,
    /// Items per message for the chunked variants.
    pub chunk: usize,
    /// Batches of `2 * workers` items for the batch variants.
    pub batches: u64,
    /// The task and any injected panic.
    pub job: Job,
    /// Test hook: process workers kill themselves at this item.
    pub kill_at: Option<u64>,
    /// Seconds one thread needs per task with no pool, measured once per run.
    pub sequential_per_task_s: f64,
}

impl Setup {
    /// The tutorial's batch size: twice the number of workers.
    pub fn batch_size(&self) -> u64 {
        2 * self.workers as u64
    }

    /// How many items `variant` maps.
    pub fn items_of(&self, variant: Variant) -> u64 {
        if variant.batched() {
            self.batches * self.batch_size()
        } else {
            self.items
        }
    }
}

/// A step's row, and what the step returned, for the verdict to read.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The row printed in the table and as JSON.
    pub row: Row,
    /// What the step returned, checked.
    pub outcome: Outcome,
}

/// What a variant returned, beside what it should have.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Which variant.
    pub variant: Variant,
    /// Items (values, 1-based) whose result is an error.
    pub failed: Vec<u64>,
    /// Worker time per task beyond the task's own sequential cost, in nanoseconds.
    pub overhead_ns: f64,
    /// How long starting the process pool took, where it was timed apart.
    pub pool_start: Option<Duration>,
}

/// Runs and times `variant`; `command` starts a worker process for the process variants.
pub fn run(
    variant: Variant,
    setup: &Setup,
    command: &WorkerCommand,
) -> Result<Measured, PoolError> {
    variants::run(variant, setup, command)
}

/// The lines under the table that say what its columns mean in this lesson.
pub const LEGEND: [&str; 4] = [
    "check: the sum of the task's results over the items, against a closed form; a result out of place also fails the row",
    "note: worker time per task beyond the task's sequential cost (wall × workers / items − sequential / items)",
    "batch rows map --batches batches of 2 × workers items; their wall time includes starting and stopping every pool",
    "process-* rows run on worker processes, the others on threads (the JSON's mechanism)",
];

/// Says on stderr how long a run will take past a few seconds, and refuses one past ten
/// minutes (a usage error), from the sequential cost per task and, for the process variants, a
/// pilot start of one worker process.
pub fn refuse_long_runs(
    setup: &Setup,
    variants: &[Variant],
    command: &WorkerCommand,
) -> anyhow::Result<()> {
    let spawn = if variants.iter().any(|v| v.processes()) {
        pool_start_pilot(1, command).context("starting a pilot worker process")?
    } else {
        Duration::ZERO
    };
    timing::check_duration(
        "this run",
        estimate(setup, variants, spawn),
        "pass a smaller --items, --work or --batches, or fewer --variant",
    )
}

/// A lower bound on how long `variants` take: every item's task spread over the workers, and
/// for the process variants one worker start (`spawn`, a measured pilot) per worker per pool.
pub fn estimate(setup: &Setup, variants: &[Variant], spawn: Duration) -> Duration {
    let per_task = Duration::from_secs_f64(setup.sequential_per_task_s);
    let mut total = Duration::ZERO;
    for &variant in variants {
        let items = setup.items_of(variant) as f64;
        total += per_task.mul_f64(items / setup.workers.max(1) as f64);
        let pools = match variant {
            Variant::ProcessBatchNewPoolEach => setup.batches,
            v if v.processes() => 1,
            _ => 0,
        };
        total += spawn.mul_f64(pools as f64 * setup.workers as f64);
    }
    total
}

/// How long a pool of `workers` worker processes takes to start and to end: the pilot for
/// [`estimate`].
pub fn pool_start_pilot(workers: usize, command: &WorkerCommand) -> Result<Duration, PoolError> {
    let (pool, took) = Stopwatch::time(|| ProcessPool::new(workers, command.clone()).map(drop));
    pool.map(|()| took)
}

/// A row of this lesson, with its mechanism and workers.
fn row(variant: Variant, setup: &Setup) -> Row {
    Row::new(crate::LESSON, variant.name())
        .mechanism(variant.mechanism())
        .workers(setup.workers)
}

/// The results of one timed run, before they are checked.
struct Timed {
    results: Results<u64>,
    wall: Duration,
}
