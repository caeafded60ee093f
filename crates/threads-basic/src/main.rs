//! The `threads-basic` binary: a thin command line over the lesson in `lib.rs`.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use timing::{CommonArgs, Report};

use threads_basic::{LESSON, control, hello, io_pool, io_sequential, io_thread_per_request};
use threads_basic::{job_trait, named, scoped, speedup_verdicts};

/// The most numbers the summing variants accept: `scoped` holds them all in a `Vec` (8 bytes
/// each, 160 MB at this bound).
const MAX_NUMBERS: u64 = 20_000_000;

/// The most URLs: `io-thread-per-request` starts one client and one server thread per URL.
const MAX_REQUESTS: u64 = 1_000;

/// The longest server delay accepted, in milliseconds.
const MAX_DELAY_MS: u64 = 10_000;

/// The pool size of `io-pool` when `--workers` is not given: threads that wait on sockets need
/// no core each, so the number of cores is the wrong default for I/O-bound work.
const IO_POOL_DEFAULT: usize = 8;

/// Threads, the Rust answer to Python's `threading` tutorial: `thread::spawn` and `join`,
/// `Builder` names and results returned through `JoinHandle`, a `Job` trait in place of a
/// `Thread` subclass, `thread::scope` borrowing local data, a worker paused, resumed and asked to
/// stop (Rust cannot kill a thread), and I/O-bound fetches from a local HTTP server that holds
/// each response back: one after another, one thread per request, and a bounded pool, with the
/// speedup over sequential beside its ideal. Variants: hello, named, job-trait, scoped, control,
/// io-sequential, io-thread-per-request, io-pool. `--workers` sets the threads of named,
/// job-trait and scoped (default: the cores) and of io-pool (default: 8).
#[derive(Debug, Parser)]
#[command(name = "threads-basic", version)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    /// A variant to run (repeatable); all of them when none is given.
    #[arg(long, value_enum)]
    variant: Vec<Variant>,

    /// Sum 1 + 2 + ... + N in named, job-trait and scoped.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=MAX_NUMBERS))]
    numbers: u64,

    /// Pages the io-* variants fetch.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=MAX_REQUESTS))]
    requests: u64,

    /// How long the local server holds back each response, in milliseconds.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=MAX_DELAY_MS))]
    delay_ms: u64,
}

/// The variants, named as `--variant` and the JSON rows spell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Variant {
    /// Two threads, numbers and letters, spawned and joined.
    Hello,
    /// `thread::Builder` names; partial sums returned through `join`.
    Named,
    /// A `Job` trait in place of a `Thread` subclass.
    JobTrait,
    /// `thread::scope` borrowing a local `Vec` without `Arc`.
    Scoped,
    /// A worker paused, resumed and stopped by flags and `park`.
    Control,
    /// Fetch the pages one after another.
    IoSequential,
    /// One thread per page.
    IoThreadPerRequest,
    /// A bounded pool of `--workers` threads.
    IoPool,
}

fn main() -> ExitCode {
    timing::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let workers = cli.common.workers();
    let pool = cli.common.workers.map_or(IO_POOL_DEFAULT, usize::from);
    let delay = Duration::from_millis(cli.delay_ms);
    let (n, requests) = (cli.numbers, cli.requests);

    let mut report = Report::new(LESSON);
    for variant in timing::selected(&cli.variant) {
        let row = match variant {
            Variant::Hello => hello(),
            Variant::Named => named(n, workers),
            Variant::JobTrait => job_trait(n, workers),
            Variant::Scoped => scoped(n, workers),
            Variant::Control => control(),
            Variant::IoSequential => io_sequential(requests, delay),
            Variant::IoThreadPerRequest => io_thread_per_request(requests, delay),
            Variant::IoPool => io_pool(requests, pool, delay),
        }?;
        report.push(row);
    }
    for line in speedup_verdicts(report.rows()) {
        report.verdict(line);
    }
    if let Some(row) = report.row("control") {
        report.verdict(format!("control: {}", row.note));
    }
    report.print(cli.common.json);
    Ok(report.exit_code())
}
