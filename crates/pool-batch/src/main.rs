//! The `pool-batch` binary: parses flags, runs the variants, prints the table or JSON lines.
//! Started with `--worker` as its first argument, it is one process of the process pool.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use pool_batch::measure::{self, Setup, Variant};
use pool_batch::steps::s5_worker_process::{WORKER_FLAG, WorkerCommand};
use pool_batch::task::{Job, Task, items};
use pool_batch::{LESSON, verdict};
use timing::{Report, between};

/// Pool.map in Rust: a worker pool built on crossbeam channels maps a task over more items than
/// there are cores, results in input order, one item a job (thread-pool), in chunks
/// (thread-pool-chunked) and with the dispatch tuned (thread-pool-tuned); the same map over
/// re-executed worker processes, text over pipes (process-pool); the tutorial's new pool per
/// batch of 2 × workers items beside one pool for every batch, on threads (batch-new-pool-each,
/// batch-one-pool) and on processes (process-batch-new-pool-each, process-batch-one-pool); and
/// rayon's par_iter as the yardstick (rayon). It reports tasks/s and the per-task overhead over
/// the sequential cost, and the verdict compares batching, chunking and tuning with rayon.
#[derive(Debug, Parser)]
// `allow_negative_numbers`: `--items -3` reaches the sizes' parser, whose error gives the range;
// without it clap reads `-3` as an unknown flag and says only "unexpected argument".
#[command(name = "pool-batch", version, allow_negative_numbers = true)]
struct Cli {
    #[command(flatten)]
    common: timing::CommonArgs,

    /// Run only this variant (repeatable) [default: all].
    #[arg(long, value_enum)]
    variant: Vec<Variant>,

    /// Items to map: the numbers 1..=ITEMS.
    #[arg(long, default_value_t = 1_000_000, value_parser = between(1, 3_000_000))]
    items: u64,

    /// Items per message for the chunked, tuned and process-pool variants (Python's chunksize).
    #[arg(long, default_value_t = 1000, value_parser = between(1, 1_000_000))]
    chunk: u64,

    /// Batches of 2 × workers items for the batch variants.
    #[arg(long, default_value_t = 100, value_parser = between(1, 100_000))]
    batches: u64,

    /// The task every item goes through.
    #[arg(long, value_enum, default_value_t = TaskName::Square)]
    task: TaskName,

    /// Hash rounds per item for `--task work` [default: 1000].
    #[arg(long, value_parser = between(1, MAX_ROUNDS))]
    work: Option<u64>,

    /// Test hook: the task for this item panics.
    #[arg(long, hide = true)]
    panic_at: Option<u64>,

    /// Test hook: a worker process kills itself when it reaches this item.
    #[arg(long, hide = true)]
    kill_worker_at: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TaskName {
    Square,
    Sqrt,
    Work,
}

/// A worker's command line, as [`worker_command`] writes it; never typed by people.
#[derive(Debug, Parser)]
#[command(name = "pool-batch --worker")]
struct WorkerCli {
    /// Always set: it is how this command line was recognised.
    #[arg(long)]
    worker: bool,
    #[arg(long, value_enum)]
    task: TaskName,
    #[arg(long, value_parser = between(1, MAX_ROUNDS))]
    work: u64,
    #[arg(long)]
    panic_at: Option<u64>,
    #[arg(long)]
    die_at: Option<u64>,
    /// The parent's pid: unused by the worker, it lets people and tests find a run's workers.
    #[arg(long)]
    parent: u32,
}

const DEFAULT_ROUNDS: u64 = 1000;
const MAX_ROUNDS: u64 = 10_000_000;

fn main() -> ExitCode {
    timing::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    // Checked before clap parses, so `pool-batch worker` or any stray word is still an error.
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == WORKER_FLAG)
    {
        return work_as_worker(&WorkerCli::parse());
    }
    let cli = Cli::parse();
    if cli.work.is_some() && cli.task != TaskName::Work {
        return Err(timing::usage_error(
            "--work sets the rounds of --task work; add --task work",
        ));
    }
    // Kills and reaps every worker process on Ctrl-C (and SIGTERM) before exiting with the
    // shell's status for SIGINT; dropped last, it also does so when `run` returns an error.
    let _reaper = reaper::install().context("installing the Ctrl-C handler")?;
    let setup = setup(&cli);
    setup.job.quiet_injected_panics();
    let command = worker_command(&cli)?;
    let variants = timing::selected(&cli.variant);
    measure::refuse_long_runs(&setup, &variants, &command)?;
    let mut measured = Vec::new();
    for variant in variants {
        let m = measure::run(variant, &setup, &command).with_context(|| variant.name())?;
        measured.push(m);
    }
    let mut report = Report::new(LESSON);
    for line in measure::LEGEND {
        report.legend(line);
    }
    for line in verdict::verdicts(&measured, &setup) {
        report.verdict(line);
    }
    measured.into_iter().for_each(|m| report.push(m.row));
    report.print(cli.common.json);
    Ok(report.exit_code())
}

/// What every variant runs with, including the sequential cost per task, measured once.
fn setup(cli: &Cli) -> Setup {
    let job = Job {
        task: task(cli.task, cli.work.unwrap_or(DEFAULT_ROUNDS)),
        panic_at: cli.panic_at,
    };
    Setup {
        workers: cli.common.workers(),
        items: cli.items,
        chunk: cli.chunk as usize,
        batches: cli.batches,
        job,
        kill_at: cli.kill_worker_at,
        sequential_per_task_s: measure::sequential_per_task(job.task, &items(cli.items)),
    }
}

fn task(name: TaskName, rounds: u64) -> Task {
    match name {
        TaskName::Square => Task::Square,
        TaskName::Sqrt => Task::Sqrt,
        // `between(1, MAX_ROUNDS)` let only values that fit in a u32 through.
        TaskName::Work => Task::Work {
            rounds: u32::try_from(rounds).unwrap_or(u32::MAX),
        },
    }
}

/// This very program, re-executed as a worker for the run's job.
fn worker_command(cli: &Cli) -> anyhow::Result<WorkerCommand> {
    let program = std::env::current_exe().context("finding this program to start workers")?;
    let task = cli
        .task
        .to_possible_value()
        .map(|v| v.get_name().to_string());
    let mut args = vec![
        WORKER_FLAG.to_string(),
        "--task".into(),
        task.unwrap_or_default(),
    ];
    let work = cli.work.unwrap_or(DEFAULT_ROUNDS).to_string();
    args.extend(["--work".into(), work]);
    args.extend(["--parent".into(), std::process::id().to_string()]);
    if let Some(n) = cli.panic_at {
        args.extend(["--panic-at".into(), n.to_string()]);
    }
    if let Some(n) = cli.kill_worker_at {
        args.extend(["--die-at".into(), n.to_string()]);
    }
    Ok(WorkerCommand { program, args })
}

fn work_as_worker(args: &WorkerCli) -> anyhow::Result<ExitCode> {
    let job = Job {
        task: task(args.task, args.work),
        panic_at: args.panic_at,
    };
    job.quiet_injected_panics();
    pool_batch::worker::serve_stdio(job, args.die_at).context("worker")?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_command_round_trips_through_the_worker_command_line() {
        let cli = Cli::parse_from([
            "pool-batch",
            "--task",
            "work",
            "--work",
            "7",
            "--panic-at",
            "3",
        ]);
        let command = worker_command(&cli).unwrap();
        assert_eq!(command.args[0], WORKER_FLAG);
        let args = std::iter::once("pool-batch".to_string()).chain(command.args);
        let worker = WorkerCli::parse_from(args);
        assert_eq!(
            (worker.task, worker.work, worker.panic_at),
            (TaskName::Work, 7, Some(3))
        );
        assert_eq!(worker.die_at, None);
    }

    #[test]
    fn a_stray_word_is_an_error_not_a_worker() {
        for word in ["worker", "foo"] {
            assert!(Cli::try_parse_from(["pool-batch", word]).is_err(), "{word}");
        }
    }
}
