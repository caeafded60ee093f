//! The `pool-batch` binary: parses flags, runs the variants, prints the table or JSON lines.
//! Re-executed with the hidden `worker` subcommand, it is one process of the process pool.

use std::io::{BufWriter, Write as _};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum, value_parser};
use pool_batch::{Job, Setup, Task, WorkerCommand};
use timing::Report;

/// Pool.map in Rust: a worker pool built on crossbeam channels maps a task over more items than
/// there are cores, results in input order, one item a message (thread-pool) or in chunks
/// (thread-pool-chunked); the same map over re-executed worker processes with JSON over pipes
/// (process-pool); the tutorial's new pool per batch of 2 × workers items (batch-new-pool-each)
/// beside one pool for every batch (batch-one-pool); and rayon's par_iter as the yardstick
/// (rayon). It reports tasks/s and the per-task overhead over the sequential cost, and the
/// verdict compares batching and the hand-built pool with rayon.
#[derive(Debug, Parser)]
#[command(name = "pool-batch", version)]
struct Cli {
    #[command(flatten)]
    common: timing::CommonArgs,

    /// Run only this variant (repeatable) [default: all].
    #[arg(long, value_enum)]
    variant: Vec<Variant>,

    /// Items to map: the numbers 1..=ITEMS.
    #[arg(long, default_value_t = 1_000_000, value_parser = value_parser!(u64).range(1..=3_000_000))]
    items: u64,

    /// Items per message for thread-pool-chunked and process-pool (Python's chunksize).
    #[arg(long, default_value_t = 1000, value_parser = value_parser!(u64).range(1..=1_000_000))]
    chunk: u64,

    /// Batches of 2 × workers items for the two batch variants.
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u64).range(1..=100_000))]
    batches: u64,

    /// The task every item goes through.
    #[arg(long, value_enum, default_value_t = TaskName::Square)]
    task: TaskName,

    /// Hash rounds per item for `--task work` [default: 1000].
    #[arg(long, value_parser = value_parser!(u32).range(1..=10_000_000))]
    work: Option<u32>,

    /// Test hook: the task for this item panics.
    #[arg(long, hide = true)]
    panic_at: Option<u64>,

    /// Test hook: a process-pool worker kills itself when it reaches this item.
    #[arg(long, hide = true)]
    kill_worker_at: Option<u64>,

    #[command(subcommand)]
    worker: Option<Hidden>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Variant {
    ThreadPool,
    ThreadPoolChunked,
    ProcessPool,
    BatchNewPoolEach,
    BatchOnePool,
    Rayon,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TaskName {
    Square,
    Sqrt,
    Work,
}

#[derive(Debug, Subcommand)]
enum Hidden {
    /// One process of the process pool (started by the pool, not by people).
    #[command(hide = true)]
    Worker(WorkerArgs),
}

#[derive(Debug, clap::Args)]
struct WorkerArgs {
    #[arg(long, value_enum)]
    task: TaskName,
    #[arg(long)]
    work: u32,
    #[arg(long)]
    panic_at: Option<u64>,
    #[arg(long)]
    die_at: Option<u64>,
    /// The parent's pid: unused by the worker, it lets people and tests find a run's workers.
    #[arg(long)]
    parent: u32,
}

const DEFAULT_ROUNDS: u32 = 1000;

fn main() -> ExitCode {
    timing::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if let Some(Hidden::Worker(args)) = &cli.worker {
        return work_as_worker(args);
    }
    if cli.work.is_some() && cli.task != TaskName::Work {
        return Err(timing::usage_error(
            "--work sets the rounds of --task work; add --task work",
        ));
    }
    // Kill and reap every worker process on Ctrl-C (and SIGTERM) before exiting with the
    // shell's status for SIGINT; without it, a worker mid-chunk would outlive us.
    // Dropped last, at the end of `run`: on an error it kills and reaps what is left, too.
    let _reaper = reaper::install().context("installing the Ctrl-C handler")?;

    let setup = setup(&cli);
    let mut report = Report::new(pool_batch::LESSON);
    for variant in timing::selected(&cli.variant) {
        let row = match variant {
            Variant::ThreadPool => pool_batch::thread_pool(&setup),
            Variant::ThreadPoolChunked => pool_batch::thread_pool_chunked(&setup),
            Variant::ProcessPool => pool_batch::process_pool(&setup, worker_command(&cli)?),
            Variant::BatchNewPoolEach => pool_batch::batch_new_pool_each(&setup),
            Variant::BatchOnePool => pool_batch::batch_one_pool(&setup),
            Variant::Rayon => pool_batch::rayon(&setup),
        };
        // `to_possible_value` is `None` only for variants marked `#[value(skip)]`: none are.
        let name = variant
            .to_possible_value()
            .map(|v| v.get_name().to_string());
        report.push(row.with_context(|| name.unwrap_or_default())?);
    }
    for line in pool_batch::verdicts(&report, &setup) {
        report.verdict(line);
    }
    report.print(cli.common.json);
    Ok(report.exit_code())
}

/// What every variant runs with, including the sequential cost per task, measured once.
fn setup(cli: &Cli) -> Setup {
    let job = Job {
        task: task(cli.task, cli.work.unwrap_or(DEFAULT_ROUNDS)),
        panic_at: cli.panic_at,
    };
    let items = pool_batch::task::items(cli.items);
    Setup {
        workers: cli.common.workers(),
        items: cli.items,
        chunk: cli.chunk as usize,
        batches: cli.batches,
        job,
        kill_at: cli.kill_worker_at,
        sequential_per_task_s: pool_batch::task::sequential_per_task(job.task, &items),
    }
}

fn task(name: TaskName, rounds: u32) -> Task {
    match name {
        TaskName::Square => Task::Square,
        TaskName::Sqrt => Task::Sqrt,
        TaskName::Work => Task::Work { rounds },
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
        "worker".to_string(),
        "--task".into(),
        task.unwrap_or_default(),
    ];
    args.extend([
        "--work".into(),
        cli.work.unwrap_or(DEFAULT_ROUNDS).to_string(),
    ]);
    args.extend(["--parent".into(), std::process::id().to_string()]);
    if let Some(n) = cli.panic_at {
        args.extend(["--panic-at".into(), n.to_string()]);
    }
    if let Some(n) = cli.kill_worker_at {
        args.extend(["--die-at".into(), n.to_string()]);
    }
    Ok(WorkerCommand { program, args })
}

fn work_as_worker(args: &WorkerArgs) -> anyhow::Result<ExitCode> {
    let job = Job {
        task: task(args.task, args.work),
        panic_at: args.panic_at,
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    pool_batch::serve(job, args.die_at, std::io::stdin().lock(), &mut out).context("worker")?;
    out.flush().context("worker")?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_command_round_trips_through_the_hidden_subcommand() {
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
        let args = std::iter::once("pool-batch".to_string()).chain(command.args);
        let Some(Hidden::Worker(worker)) = Cli::parse_from(args).worker else {
            panic!("not parsed as a worker");
        };
        assert_eq!(
            (worker.task, worker.work, worker.panic_at),
            (TaskName::Work, 7, Some(3))
        );
        assert_eq!(worker.die_at, None);
    }
}
