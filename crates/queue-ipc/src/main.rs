//! The `queue-ipc` command line: parse, run the chosen variants, print the table or JSON lines.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use queue_ipc::{LESSON, Variant, Worker, WorkerArgs};
use timing::{Report, Row, fmt_bytes_rate};

/// Passing data between processes, measured: a child streams typed messages through
/// ipc-channel (Python's multiprocessing.Queue) and length-prefixed frames through a pipe
/// (Pipe), children increment one atomic counter in POSIX shared memory (a shared Value), and a
/// child fills an array in shared memory that the parent checks (a shared Array), with
/// messages/s, MB/s, latency percentiles and GB/s beside memcpy. A child that dies is reported
/// (received M of N, exit 1); Ctrl-C ends the children; no /dev/shm segment is ever left.
/// Variants: ipc-channel, pipe, shm-counter, shm-array.
#[derive(Debug, Parser)]
#[command(name = "queue-ipc", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(flatten)]
    common: timing::CommonArgs,

    /// Run only this variant (repeatable) [default: all].
    #[arg(long, value_enum)]
    variant: Vec<Variant>,

    /// Messages the child sends (ipc-channel, pipe).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    messages: u64,

    /// Payload bytes per pipe frame.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=16 << 20))]
    bytes: u64,

    /// Increments per child (shm-counter; --workers children).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    increments: u64,

    /// 64-bit elements in the shared array (shm-array; the default is 64 MiB).
    #[arg(long, default_value_t = 1 << 23, value_parser = clap::value_parser!(u64).range(1..=1 << 27))]
    elements: u64,

    /// Fault injection for the tests: each child dies by SIGKILL after this many units.
    #[arg(long, hide = true)]
    child_dies_after: Option<u64>,

    #[command(subcommand)]
    worker: Option<Hidden>,
}

/// The hidden subcommand a re-executed child runs.
#[derive(Debug, Subcommand)]
enum Hidden {
    /// Run as a worker child of a `queue-ipc` parent.
    #[command(hide = true)]
    Worker {
        /// Which variant's child to be.
        #[arg(value_enum)]
        variant: Variant,
        #[command(flatten)]
        args: WorkerArgs,
    },
}

/// Everything a pipe run may move, at most: beyond this a run takes minutes, not seconds.
const MAX_PIPE_BYTES: u64 = 64 << 30;

fn main() -> ExitCode {
    timing::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if let Some(Hidden::Worker { variant, args }) = &cli.worker {
        queue_ipc::run_worker(*variant, args)?;
        return Ok(ExitCode::SUCCESS);
    }
    if cli.messages.saturating_mul(cli.bytes) > MAX_PIPE_BYTES {
        return Err(timing::usage_error(format!(
            "--messages {} x --bytes {} is over 64 GiB: lower one of them",
            cli.messages, cli.bytes
        )));
    }
    // Ctrl-C, SIGTERM or an error: every child is killed and reaped, and on a signal the
    // segments not yet unlinked are removed before the exit (status 130). Dropped last.
    let _reaper = reaper::install().context("installing the Ctrl-C handler")?;
    reaper::on_interrupt(queue_ipc::shm::unlink_all_registered);
    let worker = Worker::current()?;
    let children = cli.common.workers();
    let fault = cli.child_dies_after;

    let mut report = Report::new(LESSON);
    for variant in timing::selected(&cli.variant) {
        let row = match variant {
            Variant::IpcChannel => queue_ipc::ipc_channel(&worker, cli.messages, fault),
            Variant::Pipe => queue_ipc::pipe(&worker, cli.messages, cli.bytes, fault),
            Variant::ShmCounter => queue_ipc::shm_counter(&worker, children, cli.increments, fault),
            Variant::ShmArray => queue_ipc::shm_array(&worker, cli.elements, fault),
        };
        report.push(row?);
    }
    verdicts(&mut report);
    report.print(cli.common.json);
    // A failure also gets one line on stderr, where it is seen even with --json.
    for row in report.rows().iter().filter(|row| !row.as_expected()) {
        eprintln!("error: {}: {}", row.variant, row.note);
    }
    Ok(report.exit_code())
}

/// The lesson's conclusions, computed from the rows that ran.
fn verdicts(report: &mut Report) {
    let lines: Vec<String> = report
        .rows()
        .iter()
        .filter(|row| !row.correct)
        .map(|row| format!("{} FAILED: {}", row.variant, row.note))
        .collect();
    for line in lines {
        report.verdict(line);
    }
    let (pipe, channel) = (report.row("pipe"), report.row("ipc-channel"));
    if let (Some(pipe), Some(channel)) = (pipe.filter(|r| r.correct), channel.filter(|r| r.correct))
    {
        let line = format!(
            "the buffered pipe moved {:.1}x the messages/s of ipc-channel (one system call per \
             message), at {:.1}x its median latency",
            pipe.per_s / channel.per_s.max(1e-9),
            pipe.p50_ns.unwrap_or(0) as f64 / channel.p50_ns.unwrap_or(1).max(1) as f64
        );
        report.verdict(line);
    }
    if let Some(row) = report.row("shm-counter").filter(|r| r.correct) {
        let line = format!(
            "{} processes added {} to one shared AtomicU64: {} lost",
            row.workers,
            timing::fmt_count(row.expected),
            timing::fmt_count(row.expected - row.result)
        );
        report.verdict(line);
    }
    if let Some(row) = report.row("shm-array").filter(|r| r.correct) {
        let line = shared_array_verdict(row);
        report.verdict(line);
    }
}

fn shared_array_verdict(row: &Row) -> String {
    let read = row
        .extra
        .get("read_bytes_per_s")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let copy = row
        .extra
        .get("memcpy_bytes_per_s")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    format!(
        "the parent read the child's shared array at {}, {:.0} % of a memcpy of the same size in \
         this run ({}), with no copy and no serialisation",
        fmt_bytes_rate(read),
        100.0 * read / copy.max(1e-9),
        fmt_bytes_rate(copy)
    )
}
