//! The `executor-completed` binary: runs the lesson's variants and prints the table or JSON
//! lines; started with `EXECUTOR_COMPLETED_WORKER` set, it is a worker process instead (step 6).

use std::io::{self, BufReader};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use executor_completed::steps::s6_worker_process;
use executor_completed::worker_fault::{Fault, FaultyReplies};
use executor_completed::{LESSON, measure, verdict};
use timing::Report;

/// An executor with `submit(task) -> handle` and `as_completed(handles)`, Python's
/// `concurrent.futures` in Rust: results come back in the order tasks finish, errors and panics
/// arrive as results with the task's id, a deadline reports what did not finish, cancelling
/// pending work says how many never started, and a priority queue decides what starts first
/// (which `as_completed` cannot). Every submitted task is accounted for exactly once. Variants:
/// threads-as-completed, processes-as-completed, errors, timeout, cancel, priority.
#[derive(Debug, Parser)]
// `allow_negative_numbers`: "--tasks -1" reaches the value parser, whose error says what a
// size must be; without it clap takes "-1" for an unknown flag and says only that.
#[command(name = "executor-completed", version, allow_negative_numbers = true)]
struct Cli {
    #[command(flatten)]
    common: timing::CommonArgs,

    /// Run only this variant (repeatable); all of them when absent.
    #[arg(long, value_enum)]
    variant: Vec<Variant>,

    /// Trivial tasks pushed through submit + as_completed to measure tasks/s (the two
    /// as-completed variants).
    #[arg(long, default_value_t = 20_000, value_parser = timing::between(1, 2_000_000))]
    tasks: u64,

    /// In processes-as-completed, kill (SIGKILL) the worker process running this demo task
    /// (0-7): the task is reported failed, the worker replaced, the rest finish.
    #[arg(long, value_name = "TASK", value_parser = timing::between(0, 7))]
    kill_worker_during: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, ValueEnum)]
enum Variant {
    ThreadsAsCompleted,
    ProcessesAsCompleted,
    Errors,
    Timeout,
    Cancel,
    Priority,
}

fn main() -> ExitCode {
    // Before clap: a worker has no command line of its own, and must not install the Ctrl-C
    // handler (a signal ends a worker at once; the parent reaps it).
    if s6_worker_process::is_worker() {
        return timing::main_with(|| {
            serve_as_worker().context("worker process")?;
            Ok(ExitCode::SUCCESS)
        });
    }
    timing::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    // Ctrl-C, SIGTERM or an error: every worker process is killed and reaped (exit 130 on a
    // signal). Dropped last, at the end of `run`.
    let _reaper = reaper::install().context("installing the Ctrl-C handler")?;
    measure::brief_task_panics();
    let workers = cli.common.workers();
    let variants = timing::selected(&cli.variant);
    let timed = variants.iter().filter(|v| v.is_timed()).count() as u64;
    measure::check_length(workers, cli.tasks, timed)?;
    let mut measured = Vec::new();
    for variant in variants {
        let m = match variant {
            Variant::ThreadsAsCompleted => measure::threads_as_completed(workers, cli.tasks),
            Variant::ProcessesAsCompleted => {
                measure::processes_as_completed(workers, cli.tasks, cli.kill_worker_during)
            }
            Variant::Errors => measure::errors(workers),
            Variant::Timeout => measure::timeout(workers),
            Variant::Cancel => measure::cancel(workers),
            Variant::Priority => measure::priority(workers),
        };
        let name = variant.to_possible_value().map(|v| v.get_name().to_owned());
        measured.push(m.with_context(|| format!("variant {}", name.unwrap_or_default()))?);
    }
    let mut report = Report::new(LESSON);
    report.legend(measure::LEGEND);
    for line in verdict::verdicts(&measured) {
        report.verdict(line);
    }
    measured.into_iter().for_each(|m| report.push(m.row));
    report.print(cli.common.json);
    Ok(report.exit_code())
}

/// The worker's loop (step 6), with its replies passed through the fault that
/// [`executor_completed::worker_fault::FAULT_ENV`] orders, if it orders one (for the tests).
fn serve_as_worker() -> io::Result<()> {
    match Fault::from_env()? {
        None => s6_worker_process::serve_stdio(),
        Some(fault) => {
            let replies = FaultyReplies::new(io::stdout().lock(), fault);
            s6_worker_process::serve(&mut BufReader::new(io::stdin().lock()), replies)
        }
    }
}

impl Variant {
    /// Whether the variant pushes `--tasks` trivial tasks through an executor.
    fn is_timed(self) -> bool {
        matches!(self, Self::ThreadsAsCompleted | Self::ProcessesAsCompleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_rejects_zero_absurd_sizes_and_stray_words() {
        for args in [
            &["executor-completed", "--tasks", "0"][..],
            &["executor-completed", "--tasks", "2000001"],
            &["executor-completed", "--kill-worker-during", "8"],
            &["executor-completed", "worker"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
        let cli = Cli::try_parse_from(["executor-completed", "--tasks", "2_000"]).unwrap();
        assert_eq!(cli.tasks, 2_000);
    }
}
