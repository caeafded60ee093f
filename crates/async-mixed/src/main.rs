//! The `async-mixed` binary: parse the flags, start the local server, run the variants, print.

use std::process::ExitCode;
use std::time::Duration;

use async_mixed::{DelayServer, LESSON, Mix, cpu_inline, cpu_rayon, cpu_spawn_blocking, io_gather};
use clap::{Parser, ValueEnum};
use timing::{Report, fmt_ns};

/// Many I/O waits on one tokio runtime, and where its CPU-bound work should go. `io-gather`
/// sends --requests GETs at once to a local axum server whose every response takes --delay-ms,
/// and finishes in about one delay (`asyncio.gather`). The `cpu-*` variants run --tasks tasks
/// that each await a response and then sum --work squares, while a heartbeat task tries to run
/// every millisecond: `cpu-inline` does the sum on the runtime (the mistake: the heartbeat's p99
/// shows the stall), `cpu-spawn-blocking` hands it to tokio's blocking pool, `cpu-rayon` to a
/// rayon pool, answers back through a oneshot (`run_in_executor`). Every answer is checked
/// against the closed form.
#[derive(Debug, Parser)]
#[command(name = LESSON, version)]
struct Cli {
    #[command(flatten)]
    common: timing::CommonArgs,

    /// Run only this variant (repeatable) [default: all].
    #[arg(long, value_enum)]
    variant: Vec<Variant>,

    /// Concurrent requests in `io-gather`. At most 400: each in flight holds two sockets in
    /// this one process (client and server end), and 1024 descriptors is a common limit.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=400))]
    requests: u64,

    /// How long the server holds back every response, in milliseconds.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    delay_ms: u64,

    /// Tasks in each `cpu-*` variant (each one request, then one CPU step).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    tasks: u64,

    /// Iterations of each CPU step (about 1 ns each in a release build: 20 000 000 is ~20 ms).
    #[arg(long, default_value_t = 20_000_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    work: u64,
}

/// The variants, in the order the lesson tells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Variant {
    /// --requests GETs in flight at once, gathered in a JoinSet.
    IoGather,
    /// The CPU step on the runtime's own workers (the mistake).
    CpuInline,
    /// The CPU step on tokio's blocking pool, bounded by a semaphore.
    CpuSpawnBlocking,
    /// The CPU step on a rayon pool, its answer back through a oneshot.
    CpuRayon,
}

fn main() -> ExitCode {
    timing::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let workers = cli.common.workers();
    let delay = Duration::from_millis(cli.delay_ms);
    let mix = Mix {
        tasks: cli.tasks,
        work: cli.work,
        delay,
    };
    let server = DelayServer::start(delay)?;
    let mut report = Report::new(LESSON);
    for variant in timing::selected(&cli.variant) {
        report.push(match variant {
            Variant::IoGather => io_gather(&server, cli.requests, delay, workers)?,
            Variant::CpuInline => cpu_inline(&server, mix, workers)?,
            Variant::CpuSpawnBlocking => cpu_spawn_blocking(&server, mix, workers)?,
            Variant::CpuRayon => cpu_rayon(&server, mix, workers)?,
        });
    }
    // Every client is gone with its variant's runtime; now let the server finish and say so.
    server.shutdown()?;
    verdicts(&mut report, cli.requests, delay);
    report.print(cli.common.json);
    Ok(report.exit_code())
}

/// The lesson's conclusions, computed from the rows that ran.
fn verdicts(report: &mut Report, requests: u64, delay: Duration) {
    if let Some(gather) = report.row("io-gather") {
        let one_by_one = requests as f64 * delay.as_secs_f64();
        let line = format!(
            "io-gather: {requests} requests of {} each in {}: {:.1}x one delay, {:.0}x faster than one after another",
            fmt_ns(delay.as_secs_f64() * 1e9),
            fmt_ns(gather.wall_s * 1e9),
            gather.wall_s / delay.as_secs_f64(),
            one_by_one / gather.wall_s,
        );
        report.verdict(line);
    }
    let p99 = |variant: &str| report.row(variant).and_then(|r| r.p99_ns);
    let Some(inline) = p99("cpu-inline") else {
        return;
    };
    let others: Vec<String> = ["cpu-spawn-blocking", "cpu-rayon"]
        .into_iter()
        .filter_map(|v| p99(v).map(|ns| (v, ns)))
        .map(|(v, ns)| {
            // A p99 of 0 ns cannot happen with real clocks, but must not divide by zero.
            let times = inline as f64 / ns.max(1) as f64;
            format!("{times:.0}x {v}'s ({})", fmt_ns(ns as f64))
        })
        .collect();
    if !others.is_empty() {
        report.verdict(format!(
            "heartbeat p99 with CPU work on the runtime ({}): {}",
            fmt_ns(inline as f64),
            others.join(", ")
        ));
    }
}
