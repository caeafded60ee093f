//! The `async-mixed` binary: parse the flags, start the local server, run the variants, print.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use async_mixed::measure::{self, DelayServer, Fault, Pilot, Sizes, check};
use async_mixed::{LESSON, verdict};
use clap::{Parser, ValueEnum};
use timing::{Report, fmt_count, fmt_ns};

/// Many I/O waits on one tokio runtime, and where its CPU-bound work should go. `io-gather`
/// sends --requests GETs at once to a local axum server whose every response takes --delay-ms,
/// and finishes in about one delay (`asyncio.gather`). The `cpu-*` variants run --tasks tasks
/// that each await a response and then sum --work squares, while a heartbeat task tries to run
/// every millisecond: `cpu-inline` does the sum on the runtime (the mistake: the heartbeat's p99
/// shows the stall), `cpu-spawn-blocking` hands it to tokio's blocking pool, `cpu-rayon` to a
/// rayon pool, answers back through a oneshot (`run_in_executor`). Every answer is checked
/// against the closed form, and each offloaded variant's heartbeat p99 against cpu-inline's.
/// Variants: io-gather, cpu-inline, cpu-spawn-blocking, cpu-rayon.
#[derive(Debug, Parser)]
// `allow_negative_numbers`: "--work -5" reaches the size's parser, whose error says what a size
// must be, instead of clap taking "-5" for an unknown flag.
#[command(name = LESSON, version, allow_negative_numbers = true)]
struct Cli {
    #[command(flatten)]
    common: timing::CommonArgs,

    /// Run only this variant (repeatable) [default: all].
    #[arg(long, value_enum)]
    variant: Vec<Variant>,

    /// Concurrent requests in `io-gather`. At most 400: each in flight holds two sockets in
    /// this one process (client and server end), and 1024 descriptors is a common limit.
    #[arg(long, default_value_t = 200, value_parser = timing::between(1, 400))]
    requests: u64,

    /// How long the server holds back every response, in milliseconds.
    #[arg(long, default_value_t = 50, value_parser = timing::between(1, 10_000))]
    delay_ms: u64,

    /// Tasks in each `cpu-*` variant (each one request, then one CPU step).
    #[arg(long, default_value_t = 32, value_parser = timing::between(1, 10_000))]
    tasks: u64,

    /// Iterations of each CPU step [default: what a pilot sum says holds cpu-inline's every
    /// worker for about 250 ms, so the heartbeats are compared in a debug or a release build].
    #[arg(long, value_parser = timing::between(1, 1_000_000_000))]
    work: Option<u64>,
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
    // No child to reap here, but Ctrl-C should end the run as every lesson's does: status 130
    // and one line, not death by SIGINT, which scripts read apart from an exit status.
    let _reaper = reaper::install().context("installing the Ctrl-C handler")?;
    let fault = Fault::from_env()?;
    let workers = cli.common.workers();
    // One pilot sizes the default work and times the step, so the stall the default was sized
    // for is the one the check expects (a second pilot could read the machine differently).
    let pilot = Pilot::run();
    let sizes = Sizes {
        requests: cli.requests,
        delay: Duration::from_millis(cli.delay_ms),
        tasks: cli.tasks,
        work: cli
            .work
            .unwrap_or_else(|| pilot.default_work(cli.tasks, workers)),
        workers,
    };
    let variants = timing::selected(&cli.variant);
    let step = pilot.step_time(sizes.work);
    refuse_long_runs(sizes, step, &variants)?;
    let server = DelayServer::start(sizes.delay)?;
    let mut measured = Vec::new();
    for variant in variants {
        measured.push(match variant {
            Variant::IoGather => measure::io_gather(&server, sizes)?,
            Variant::CpuInline => measure::cpu_inline(&server, sizes)?,
            Variant::CpuSpawnBlocking => measure::cpu_spawn_blocking(&server, sizes, fault)?,
            Variant::CpuRayon => measure::cpu_rayon(&server, sizes)?,
        });
    }
    // Every client is gone with its variant's runtime; now let the server finish and say so.
    server.shutdown()?;
    check::against_inline(&mut measured, check::expected_stall(sizes, step));
    let mut report = Report::new(LESSON);
    legend(&mut report);
    for line in verdict::verdicts(&measured) {
        report.verdict(line);
    }
    measured.into_iter().for_each(|m| report.push(m.row));
    report.print(cli.common.json);
    Ok(report.exit_code())
}

/// What the latency columns and the check mean in this lesson.
fn legend(report: &mut Report) {
    report.legend(format!(
        "p50/p99/max: how late the heartbeat ran, a task due every {} on the same runtime \
         (every tick due during the run counted)",
        fmt_ns(measure::PERIOD.as_nanos() as f64)
    ));
    report.legend(format!(
        "check: tasks whose sum matched the closed form (io-gather: whole bodies); \
         cpu-spawn-blocking and cpu-rayon also need a heartbeat p99 at most 1/{} of \
         cpu-inline's, when cpu-inline ran and the sizes hold every worker for {} or more \
         (full rounds of tasks times one CPU step, timed by a pilot sum)",
        check::FACTOR,
        fmt_ns(check::STALL_FLOOR.as_nanos() as f64)
    ));
}

/// Refuses a run estimated past ten minutes, and announces one past a few seconds.
fn refuse_long_runs(sizes: Sizes, step: Duration, variants: &[Variant]) -> anyhow::Result<()> {
    let gather = variants.contains(&Variant::IoGather);
    let mixed = variants.len() - usize::from(gather);
    let estimate = measure::estimate(sizes, step, gather, mixed);
    // The CPU steps dominate any long run, and their time grows with --work.
    let fits = timing::REFUSE_AFTER.as_secs_f64() / estimate.as_secs_f64().max(1e-9);
    let work = ((sizes.work as f64 * fits) as u64).max(1);
    timing::check_duration(
        &format!(
            "{} tasks of {} iterations",
            fmt_count(sizes.tasks),
            fmt_count(sizes.work)
        ),
        estimate,
        &format!("pass --work {} or less, or fewer --tasks", fmt_count(work)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_rejects_zero_and_absurd_sizes() {
        for args in [
            &["async-mixed", "--requests", "0"][..],
            &["async-mixed", "--requests", "401"],
            &["async-mixed", "--delay-ms", "0"],
            &["async-mixed", "--work", "1000000001"],
            &["async-mixed", "--workers", "0"],
            &["async-mixed", "cpu-inline"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
        let cli = Cli::try_parse_from(["async-mixed", "--variant", "cpu-rayon"]).unwrap();
        assert_eq!(cli.variant, [Variant::CpuRayon]);
        assert_eq!((cli.tasks, cli.work), (32, None));
    }
}
