//! Times each step and builds its row: wall time, the CPUs it kept busy, peak memory of the
//! parent and of each child, every result checked against the closed form.
//!
//! The steps run as written; nothing here reaches inside them. Each variant runs `--rounds`
//! times, the variants interleaved (all four, then all four again) so that a slow spell of a
//! shared machine hits every variant alike instead of the one that happened to run during it,
//! and each row is the variant's median run (see [`Summary`]).

use std::time::Duration;

use timing::{Mechanism, Row, Stopwatch};

use crate::steps::{Children, Error, peak_rss_kib, s1_sequential, s2_threads, s3_fork, s4_spawn};

mod check;
pub mod estimate;
pub mod memory;
mod row;
mod summary;

pub use check::{N_MAX, expected_total, max_n, series_sum};
pub use summary::Summary;

/// The lesson's variants, one per step, in reading order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// Step 1: the tasks one after another: the baseline.
    Sequential,
    /// Step 2: one thread per task.
    Threads,
    /// Step 3: one forked child per task, results through a pipe, reaped with waitpid.
    Fork,
    /// Step 4: this program re-executed per task as a worker.
    Spawn,
}

impl Variant {
    /// Every variant, in reading order.
    pub const ALL: &[Variant] = &[
        Variant::Sequential,
        Variant::Threads,
        Variant::Fork,
        Variant::Spawn,
    ];

    /// The name, as `--variant` and the rows spell it.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Sequential => "sequential",
            Variant::Threads => "threads",
            Variant::Fork => "fork",
            Variant::Spawn => "spawn",
        }
    }

    /// What does the work: one thread, threads of this process, or child processes.
    pub fn mechanism(self) -> Mechanism {
        match self {
            Variant::Sequential => Mechanism::Sequential,
            Variant::Threads => Mechanism::Threads,
            Variant::Fork | Variant::Spawn => Mechanism::Processes,
        }
    }
}

/// The sizes of a run, from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Each task sums `0..n`.
    pub n: u64,
    /// Tasks, and the threads or processes that run them at once.
    pub workers: usize,
    /// Runs of each variant.
    pub rounds: u64,
}

/// What the table's columns and notes mean in this lesson.
pub const LEGEND: &[&str] = &[
    "check: every task's sum added up, against the closed form workers x n(n-1)/2; \
     items: the additions, n per task",
    "note: speedup over sequential, efficiency (speedup / workers), the range of the runs; \
     parent: this process's peak resident memory during the run; child: the largest \
     child's own peak (VmHWM)",
];

/// One run of one variant: what it computed and what it cost.
#[derive(Debug, Clone)]
pub struct Run {
    /// Wall time, from before the first thread or child starts to after the last is joined.
    pub wall: Duration,
    /// CPU seconds over wall seconds: how many CPUs the run kept busy on average.
    pub cpus: f64,
    /// This process's peak resident memory during the run, in KiB.
    pub parent_peak_kib: Option<u64>,
    /// The sum of every result that came back.
    pub total: u64,
    /// What the children sent and how they ended, for the process variants.
    pub children: Option<Children>,
}

/// A variant's row, and its summary for the verdicts to read.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The row printed in the table and as JSON.
    pub row: Row,
    /// What the runs came to, typed.
    pub summary: Summary,
}

/// Adds each summary's speedup over `sequential` (when sequential ran) and builds its row.
pub fn measured(mut summaries: Vec<Summary>) -> Vec<Measured> {
    let baseline = summaries
        .iter()
        .find(|s| s.variant == Variant::Sequential)
        .map(|s| s.median.wall.as_secs_f64());
    for summary in &mut summaries {
        let wall = summary.median.wall.as_secs_f64();
        summary.speedup = baseline.filter(|_| wall > 0.0).map(|base| base / wall);
    }
    summaries
        .into_iter()
        .map(|summary| Measured {
            row: summary.row(),
            summary,
        })
        .collect()
}

/// Runs every variant of `variants` `sizes.rounds` times, interleaved, and returns each one's
/// median row with its summary.
pub fn run_all(variants: &[Variant], sizes: Sizes) -> Result<Vec<Measured>, Error> {
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); variants.len()];
    for _ in 0..sizes.rounds {
        for (&variant, runs) in variants.iter().zip(&mut runs) {
            runs.push(run_once(variant, sizes)?);
        }
    }
    let summaries = variants
        .iter()
        .zip(runs)
        .filter_map(|(&variant, runs)| Summary::of(variant, sizes, runs))
        .collect();
    Ok(measured(summaries))
}

/// Runs `variant` once, timed, with this process's peak memory set back first.
pub fn run_once(variant: Variant, sizes: Sizes) -> Result<Run, Error> {
    let Sizes { n, workers, .. } = sizes;
    memory::reset_peak();
    let cpu = memory::cpu_seconds();
    let watch = Stopwatch::start();
    let processes = |children: Children| (children.total, Some(children));
    let (total, children) = match variant {
        Variant::Sequential => (s1_sequential::run(n, workers), None),
        Variant::Threads => (s2_threads::run(n, workers)?, None),
        Variant::Fork => processes(s3_fork::run(n, workers)?),
        Variant::Spawn => processes(s4_spawn::run(n, workers)?),
    };
    let wall = watch.elapsed();
    // How many CPUs the run had on average: what tells a busy machine from a slow way of
    // running the work (see `verdict`).
    let cpus = (memory::cpu_seconds() - cpu) / wall.as_secs_f64().max(1e-9);
    Ok(Run {
        wall,
        cpus,
        parent_peak_kib: peak_rss_kib(),
        total,
        children,
    })
}
