//! The `executor-completed` binary: the command line over the lesson in `lib.rs`.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use executor_completed as lesson;
use timing::{Report, Row, fmt_rate};

/// An executor with `submit(task) -> handle` and `as_completed(handles)`, Python's
/// `concurrent.futures` in Rust: results come back in the order tasks finish, errors and panics
/// arrive as results with the task's id, a deadline reports what did not finish, cancelling
/// pending work says how many never started, and a priority queue decides what starts first
/// (which `as_completed` cannot). Every submitted task is accounted for exactly once. Variants:
/// threads-as-completed, processes-as-completed, errors, timeout, cancel, priority.
#[derive(Debug, Parser)]
#[command(
    name = "executor-completed",
    version,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    hidden: Option<Hidden>,

    #[command(flatten)]
    common: timing::CommonArgs,

    /// Run only this variant (repeatable); all of them when absent.
    #[arg(long, value_enum)]
    variant: Vec<Variant>,

    /// Trivial tasks pushed through submit + as_completed to measure tasks/s (the two
    /// as-completed variants).
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..=2_000_000))]
    tasks: u64,

    /// In processes-as-completed, kill (SIGKILL) the worker process running this demo task
    /// (0-7): the task is reported failed, the worker replaced, the rest finish.
    #[arg(long, value_name = "TASK", value_parser = clap::value_parser!(u64).range(0..8))]
    kill_worker_during: Option<u64>,
}

/// Subcommands a user never types: the program re-executed as a worker process.
#[derive(Debug, Subcommand)]
enum Hidden {
    /// Serve tasks on stdin/stdout (how the process executor runs its workers).
    #[command(name = "worker", hide = true)]
    Worker,
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
    timing::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if let Some(Hidden::Worker) = cli.hidden {
        lesson::worker::serve_stdio().context("worker process")?;
        return Ok(ExitCode::SUCCESS);
    }
    // Ctrl-C, SIGTERM or an error: every worker process is killed and reaped (exit 130 on a
    // signal). Dropped last, at the end of `run`.
    let _reaper = reaper::install().context("installing the Ctrl-C handler")?;
    lesson::brief_task_panics();
    let workers = cli.common.workers();
    let mut report = Report::new(lesson::LESSON);
    for variant in timing::selected(&cli.variant) {
        let row = match variant {
            Variant::ThreadsAsCompleted => lesson::threads_as_completed(workers, cli.tasks),
            Variant::ProcessesAsCompleted => {
                lesson::processes_as_completed(workers, cli.tasks, cli.kill_worker_during)
            }
            Variant::Errors => lesson::errors(workers),
            Variant::Timeout => lesson::timeout(workers),
            Variant::Cancel => lesson::cancel(workers),
            Variant::Priority => lesson::priority(workers),
        };
        let name = variant
            .to_possible_value()
            .map(|v| v.get_name().to_string());
        report.push(row.with_context(|| format!("variant {}", name.unwrap_or_default()))?);
    }
    for line in verdicts(&report) {
        report.verdict(line);
    }
    report.print(cli.common.json);
    Ok(report.exit_code())
}

/// The lesson's conclusions, computed from the rows that ran.
fn verdicts(report: &Report) -> Vec<String> {
    let mut lines = completion_verdicts(report);
    lines.extend(outcome_verdicts(report));
    let accounted = report
        .rows()
        .iter()
        .filter(|r| r.expected == r.result && r.extra["ids_unique"] == true)
        .count();
    lines.push(format!(
        "accounting: every submitted task counted exactly once in {accounted} of {} variants",
        report.rows().len()
    ));
    lines
}

/// What the two as-completed rows say: the order uneven tasks finished in, and the rates.
fn completion_verdicts(report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    let threads = report.row("threads-as-completed");
    let processes = report.row("processes-as-completed");
    for row in [threads, processes].into_iter().flatten() {
        let order = &row.extra["completion_order"];
        lines.push(format!(
            "{}: uneven tasks submitted 0..7 finished {order}",
            row.variant
        ));
    }
    if let (Some(t), Some(p)) = (threads, processes) {
        lines.push(format!(
            "submit + as_completed of trivial tasks: threads {}, processes {} (threads/processes = {:.2}; a process task crosses two pipes, {} per worker in flight)",
            fmt_rate(t.per_s),
            fmt_rate(p.per_s),
            t.per_s / p.per_s.max(f64::MIN_POSITIVE),
            lesson::THROUGHPUT_WINDOW
        ));
    }
    lines
}

/// What the errors, timeout, cancel and priority rows say, each from its own counts.
fn outcome_verdicts(report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    let count = |row: &Row, key: &str| row.extra.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
    if let Some(row) = report.row("errors") {
        lines.push(format!(
            "errors: {} of {} tasks came back as Err (one returned it, one panicked); {} finished",
            count(row, "failed"),
            row.expected,
            count(row, "finished")
        ));
    }
    if let Some(row) = report.row("timeout") {
        lines.push(format!(
            "timeout: {} of {} not finished at the deadline, {} of those finished later: a timeout stops the waiting, not the work",
            count(row, "timed_out"),
            row.expected,
            count(row, "finished_late")
        ));
    }
    if let Some(row) = report.row("cancel") {
        lines.push(format!(
            "cancel: {} of {} tasks cancelled before they started; {} running ones finished",
            count(row, "cancelled"),
            row.expected,
            count(row, "finished")
        ));
    }
    if let Some(row) = report.row("priority") {
        lines.push(format!(
            "priority: queued tasks started in order {} (priorities {}): the queue decides, as_completed only reports",
            row.extra["start_order"], row.extra["priorities"]
        ));
    }
    lines
}
