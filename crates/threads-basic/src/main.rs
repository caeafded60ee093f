//! The `threads-basic` binary: runs the lesson's variants and prints the table or JSON lines.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use threads_basic::{LESSON, measure, verdict};
use timing::{CommonArgs, Report};

/// The most numbers the summing variants accept: `scoped` holds them all in a `Vec` (8 bytes
/// each, 160 MB at this bound).
const MAX_NUMBERS: u64 = 20_000_000;

/// The most URLs: `io-thread-per-request` starts one client and one server thread per URL.
const MAX_REQUESTS: u64 = 1_000;

/// The longest server delay accepted, in milliseconds.
const MAX_DELAY_MS: u64 = 10_000;

/// The most idle threads: the kernel's own ceiling on `kernel.pid_max` (`PID_MAX_LIMIT` on 64-bit
/// Linux). The machine's actual limits, usually far lower, are read before the threads start.
const MAX_THREADS: u64 = 4_194_304;

/// The pool size of `io-pool` when `--workers` is not given: threads that wait on sockets need
/// no core each, so the number of cores is the wrong default for I/O-bound work.
const IO_POOL_DEFAULT: usize = 8;

/// Threads, the Rust answer to Python's `threading` tutorial: `thread::spawn` and `join`,
/// `Builder` names and results returned through `JoinHandle`, a `Job` trait in place of a
/// `Thread` subclass, `thread::scope` borrowing local data, a worker paused, resumed and asked to
/// stop (Rust cannot kill a thread), and I/O-bound fetches from a local HTTP server that holds
/// each response back: one after another, one thread per request, and a bounded pool, with the
/// speedup over sequential beside its ideal; and what a thread costs in memory, `--threads` idle
/// threads held alive at once. Variants: hello, named, job-trait, scoped, control, io-sequential,
/// io-thread-per-request, io-pool, idle-threads. `--workers` sets the threads of named,
/// job-trait and scoped (default: the cores) and of io-pool (default: 8).
#[derive(Debug, Parser)]
#[command(name = "threads-basic", version)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    /// A variant to run (repeatable); all of them when none is given.
    #[arg(long, value_enum)]
    variant: Vec<Variant>,

    // `allow_negative_numbers` on the sizes: "-3" reaches the parser, whose error gives the
    // range, instead of clap's "unexpected argument '-3'".
    /// Sum 1 + 2 + ... + N in named, job-trait and scoped.
    #[arg(long, default_value_t = 1_000_000, allow_negative_numbers = true,
          value_parser = timing::between(1, MAX_NUMBERS))]
    numbers: u64,

    /// Pages the io-* variants fetch.
    #[arg(long, default_value_t = 20, allow_negative_numbers = true,
          value_parser = timing::between(1, MAX_REQUESTS))]
    requests: u64,

    /// How long the local server holds back each response, in milliseconds.
    #[arg(long, default_value_t = 50, allow_negative_numbers = true,
          value_parser = timing::between(0, MAX_DELAY_MS))]
    delay_ms: u64,

    // Its own flag rather than `--workers`: those threads share work and default to the cores
    // (at most 1 024), while this is the size swept, up to tens of thousands of threads that
    // do nothing.
    /// Threads idle-threads holds alive at once (refused above this machine's thread limits).
    #[arg(long, default_value_t = 1_000, allow_negative_numbers = true,
          value_parser = timing::between(1, MAX_THREADS))]
    threads: u64,
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
    /// `--threads` threads blocked at once: their memory, resident and reserved.
    IdleThreads,
}

fn main() -> ExitCode {
    timing::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    // Ctrl-C, SIGTERM: one line and exit status 130, the convention every lesson follows; the
    // default action would end the process by the signal, with no status a script can read as
    // "interrupted". No child process, file or segment exists here to clean up: the threads
    // and the local server end with the process. Declared first, so it is dropped last.
    let _reaper = reaper::install().context("installing the Ctrl-C handler")?;
    let cli = Cli::parse();
    let workers = cli.common.workers();
    let pool = cli.common.workers.map_or(IO_POOL_DEFAULT, usize::from);
    let delay = Duration::from_millis(cli.delay_ms);
    let (n, requests) = (cli.numbers, cli.requests);
    let variants = timing::selected(&cli.variant);

    // How many times the selected io-* variants wait for the server's delay, in all.
    let rounds = variants.iter().map(|v| match v {
        Variant::IoSequential => requests,
        Variant::IoThreadPerRequest => 1,
        Variant::IoPool => requests.div_ceil(pool as u64),
        _ => 0,
    });
    measure::check_io_length(rounds.sum(), requests, delay)?;
    if variants.contains(&Variant::IdleThreads) {
        measure::check_thread_limit(cli.threads)?;
    }

    let mut measured = Vec::new();
    for variant in variants {
        measured.push(match variant {
            Variant::Hello => measure::hello(),
            Variant::Named => measure::named(n, workers),
            Variant::JobTrait => measure::job_trait(n, workers),
            Variant::Scoped => measure::scoped(n, workers),
            Variant::Control => measure::control(),
            Variant::IoSequential => measure::io_sequential(requests, delay),
            Variant::IoThreadPerRequest => measure::io_thread_per_request(requests, delay),
            Variant::IoPool => measure::io_pool(requests, pool, delay),
            Variant::IdleThreads => measure::idle_threads(cli.threads),
        }?);
    }
    let mut report = Report::new(LESSON);
    measure::legend(&measured)
        .into_iter()
        .for_each(|line| report.legend(line));
    verdict::verdicts(&measured)
        .into_iter()
        .for_each(|line| report.verdict(line));
    measured.into_iter().for_each(|m| report.push(m.row));
    report.print(cli.common.json);
    Ok(report.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_rejects_zero_and_absurd_sizes() {
        for args in [
            &["threads-basic", "--numbers", "0"][..],
            &["threads-basic", "--numbers", "20000001"],
            &["threads-basic", "--requests", "1001"],
            &["threads-basic", "--delay-ms", "10001"],
            &["threads-basic", "--threads", "0"],
            &["threads-basic", "--threads", "4194305"],
        ] {
            let err = Cli::try_parse_from(args).unwrap_err().to_string();
            assert!(
                err.contains("must be a whole number from"),
                "{args:?}: {err}"
            );
        }
        let cli = Cli::try_parse_from(["threads-basic", "--delay-ms", "0"]).unwrap();
        assert_eq!(
            (cli.delay_ms, cli.requests, cli.numbers),
            (0, 20, 1_000_000)
        );
    }
}
