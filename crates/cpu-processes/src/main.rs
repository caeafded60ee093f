//! The `cpu-processes` binary: a thin CLI over the lesson in `lib.rs`.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use cpu_processes::{Crash, Error, annotate, expected_total, max_n, median_of, memory};
use timing::{CommonArgs, Report, Row, fmt_count, selected, usage_error};

/// Sums per worker by default: 50 to 150 ms of work per task on the project's machine (one to
/// three additions a nanosecond, as its load varied), so three rounds of the four variants take
/// one to two seconds on two cores.
const DEFAULT_N: u64 = 150_000_000;

/// CPU-bound work on threads and processes: the tutorials' `cpu_intensive_task(n)` (a sum of
/// 0..n the optimiser cannot fold away) run once per worker, four ways, checked against the
/// closed form and timed. Rust has no GIL, so threads scale like processes; processes show what
/// they cost instead: a copied (fork) or fresh (spawn) address space per worker. Variants:
/// sequential (the tasks one after another: the baseline), threads (one thread per task), fork
/// (one forked child per task, results through a pipe, reaped with waitpid), spawn (this program
/// re-executed per task as a hidden worker). The table shows speedup over sequential, efficiency
/// (speedup / workers) and peak resident memory from getrusage; each figure is the median of
/// --rounds interleaved runs, and a run that falls short is explained by the CPUs it had.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    /// Run only this variant (repeatable) [default: all].
    #[arg(long, value_enum)]
    variant: Vec<Variant>,

    /// Each worker sums 0..n; the total over all workers must fit in 64 bits.
    #[arg(long, default_value_t = DEFAULT_N, value_parser = clap::value_parser!(u64).range(1..))]
    n: u64,

    /// Run every variant this many times, interleaved, and report each one's median.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    rounds: u32,

    /// For the tests: the child of task 0 fails (exits 3, or kills itself) in fork and spawn.
    #[arg(long, value_enum, hide = true)]
    crash_child: Option<Crash>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One task, its sum on stdout: what the `spawn` variant re-executes this program as.
    #[command(hide = true)]
    Worker {
        /// The task size.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        n: u64,
        /// Fail on purpose, as `--crash-child` asks.
        #[arg(long, value_enum)]
        crash: Option<Crash>,
        /// The pid of the process that started this worker.
        #[arg(long)]
        parent: Option<u32>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Variant {
    Sequential,
    Threads,
    Fork,
    Spawn,
}

fn main() -> ExitCode {
    timing::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if let Some(Command::Worker { n, crash, parent }) = cli.command {
        return Ok(cpu_processes::spawn::worker(n, crash, parent));
    }
    let (n, workers) = (cli.n, cli.common.workers());
    if expected_total(n, workers).is_none() {
        return Err(usage_error(format!(
            "--n {n} with {workers} workers: the total overflows 64 bits; use --n {} or less",
            max_n(workers)
        )));
    }
    // Ctrl-C, SIGTERM or an error: every child is killed and reaped (exit 130 on a signal).
    // Dropped last, at the end of `run`.
    let _reaper = reaper::install().context("installing the Ctrl-C handler")?;

    let mut rows = match measure(&cli, n, workers) {
        Err(Error::Interrupted) => return Ok(interrupted()),
        rows => rows?,
    };
    annotate(&mut rows);
    let mut report = Report::new(cpu_processes::LESSON);
    for line in verdicts(&rows, workers) {
        report.verdict(line);
    }
    for row in rows {
        for failed in failures(&row) {
            eprintln!("error: {}: {failed}", row.variant);
        }
        report.push(row);
    }
    report.print(cli.common.json);
    Ok(report.exit_code())
}

/// Runs every selected variant `--rounds` times and returns each one's median row.
fn measure(cli: &Cli, n: u64, workers: usize) -> Result<Vec<Row>, Error> {
    // Rounds interleave the variants (all four, then all four again), so a slow spell of the
    // machine hits every variant alike instead of the one that happened to run during it.
    let variants = selected(&cli.variant);
    let mut runs: Vec<Vec<Row>> = vec![Vec::new(); variants.len()];
    for _ in 0..cli.rounds {
        for (variant, runs) in variants.iter().zip(&mut runs) {
            let cpu = memory::cpu_seconds();
            let row = match variant {
                Variant::Sequential => cpu_processes::sequential(n, workers),
                Variant::Threads => cpu_processes::threads(n, workers)?,
                Variant::Fork => cpu_processes::fork(n, workers, cli.crash_child)?,
                Variant::Spawn => cpu_processes::spawn(n, workers, cli.crash_child)?,
            };
            // How many CPUs the run had on average: its CPU seconds over its wall seconds. This
            // is what tells a busy machine from a slow way of running the work (see `verdicts`).
            let cpus = (memory::cpu_seconds() - cpu) / row.wall_s.max(1e-9);
            runs.push(row.extra("cpus", cpus));
        }
    }
    Ok(runs.into_iter().filter_map(median_of).collect())
}

fn interrupted() -> ExitCode {
    eprintln!("interrupted: every child was ended and reaped");
    ExitCode::from(130)
}

fn failures(row: &Row) -> Vec<String> {
    let list = row.extra.get("failed_children").and_then(|v| v.as_array());
    list.into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect()
}

fn extra_f64(row: &Row, key: &str) -> Option<f64> {
    row.extra.get(key).and_then(|v| v.as_f64())
}

/// The lesson's conclusions, computed from the rows.
fn verdicts(rows: &[Row], workers: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let parallel: Vec<(&str, f64)> = rows
        .iter()
        .filter(|r| r.variant != "sequential")
        .filter_map(|r| Some((r.variant.as_str(), extra_f64(r, "speedup")?)))
        .collect();
    if !parallel.is_empty() {
        let listed: Vec<String> = parallel
            .iter()
            .map(|(v, s)| format!("{v} {s:.2}x"))
            .collect();
        // 90 % efficiency: what a CPU-bound task with no sharing should reach on idle cores.
        let short: Vec<&str> = parallel
            .iter()
            .filter(|(_, s)| *s < 0.9 * workers as f64)
            .map(|(v, _)| *v)
            .collect();
        let judgement = if workers == 1 {
            "one worker: these ratios show only what each way adds to one task".to_string()
        } else if short.is_empty() {
            "every one scales: no GIL, so threads are as parallel as processes".to_string()
        } else {
            format!("below 90% efficiency: {}", why_short(rows, &short, workers))
        };
        lines.push(format!(
            "speedup over sequential with {workers} worker(s): {}; {judgement}",
            listed.join(", ")
        ));
    } else if workers > 1 {
        lines.push("run with --variant sequential as well to see speedups".to_string());
    }
    lines.extend(memory_verdict(rows, workers));
    let failed: usize = rows.iter().map(|r| failures(r).len()).sum();
    if failed > 0 {
        lines.push(format!(
            "{} child process(es) failed: see the rows",
            fmt_count(failed as u64)
        ));
    }
    lines
}

/// Why each of the `short` variants fell below 90 % efficiency, from how many CPUs each run kept
/// busy (CPU seconds over wall seconds). Fewer than workers means a worker sat without a CPU:
/// waiting for one that another process held, or done early while a slower one ran on (the two
/// vCPUs of a virtual machine can run the same loop at different speeds from one second to the
/// next). All of them busy means each task ran slower beside the others than alone, as when two
/// vCPUs share one physical core. The rejected alternative, one fixed guess naming every cause,
/// left the reader to find out which applied.
fn why_short(rows: &[Row], short: &[&str], workers: usize) -> String {
    let cpus = |variant: &str| {
        let row = rows.iter().find(|r| r.variant == variant)?;
        extra_f64(row, "cpus")
    };
    let had: Vec<(&str, Option<f64>)> = short.iter().map(|&v| (v, cpus(v))).collect();
    let mut reasons: Vec<String> = had
        .iter()
        .map(|(variant, had)| match had {
            Some(had) => format!("{variant} kept {had:.2} of {workers} CPUs busy"),
            None => variant.to_string(),
        })
        .collect();
    let idle = |h: &Option<f64>| h.map(|h| h < 0.9 * workers as f64);
    if had.iter().any(|(_, h)| idle(h) == Some(true)) {
        reasons.push(
            "fewer than workers: a worker waited for a CPU, or finished early beside \
             a slower one"
                .into(),
        );
    }
    if had.iter().any(|(_, h)| idle(h) == Some(false)) {
        reasons.push("all of them: each task ran slower beside the others than alone".into());
    }
    if let Some(had) = cpus("sequential").filter(|&had| had < 0.9) {
        reasons.push(format!("sequential itself kept only {had:.2} CPU busy"));
    }
    reasons.join("; ")
}

/// What threads and processes cost in memory, from the rows' `getrusage` figures.
fn memory_verdict(rows: &[Row], workers: usize) -> Option<String> {
    let kib = |variant: &str, key: &str| {
        let row = rows.iter().find(|r| r.variant == variant)?;
        row.extra.get(key).and_then(|v| v.as_u64())
    };
    let mut parts = Vec::new();
    if let (Some(seq), Some(thr)) = (
        kib("sequential", "peak_rss_kib"),
        kib("threads", "peak_rss_kib"),
    ) {
        let grew = memory::fmt_kib(thr.saturating_sub(seq));
        parts.push(format!(
            "{workers} threads grew the one shared process by {grew}"
        ));
    }
    for variant in ["fork", "spawn"] {
        if let Some(child) = kib(variant, "child_peak_rss_kib") {
            let child = memory::fmt_kib(child);
            parts.push(format!(
                "{variant}: {workers} processes of up to {child} each"
            ));
        }
    }
    (!parts.is_empty()).then(|| {
        format!(
            "memory: {} (RUSAGE_CHILDREN reports the largest single child so far, not the sum)",
            parts.join("; ")
        )
    })
}
