//! The `async-mixed` binary: parse the flags, start the local server, run the variants, print.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use async_mixed::measure::{self, DelayServer, Fault, Outcome, Pilot, Sizes, check};
use async_mixed::{LESSON, verdict};
use clap::{Parser, ValueEnum};
use timing::{Report, fmt_count, usage_error};

/// Many I/O waits on one tokio runtime, and where its CPU-bound work should go. `io-gather`
/// sends --requests GETs at once to a local axum server whose every response takes --delay-ms,
/// and finishes in about one delay (`asyncio.gather`). The `cpu-*` variants run --tasks tasks
/// that each await a response and then sum --work squares, while a heartbeat task tries to run
/// every millisecond: `cpu-inline` does the sum on the runtime (the mistake: the heartbeat's p99
/// shows the stall), `cpu-spawn-blocking` hands it to tokio's blocking pool, `cpu-rayon` to a
/// rayon pool, answers back through a oneshot (`run_in_executor`). Every answer is checked
/// against the closed form, and each offloaded variant's heartbeat p99 against cpu-inline's.
/// `wait-tasks` and `wait-threads` start --waits waits of --delay-ms each, all waiting at once,
/// as tokio tasks or as OS threads, and report the process's peak memory (`peak_rss_kib`); they
/// run only when named, since each row's memory and the machine's thread limits are their point.
/// Variants: io-gather, cpu-inline, cpu-spawn-blocking, cpu-rayon, wait-tasks, wait-threads.
#[derive(Debug, Parser)]
// `allow_negative_numbers`: "--work -5" reaches the size's parser, whose error says what a size
// must be, instead of clap taking "-5" for an unknown flag.
#[command(name = LESSON, version, allow_negative_numbers = true)]
struct Cli {
    #[command(flatten)]
    common: timing::CommonArgs,

    /// Run only this variant (repeatable) [default: all but wait-tasks and wait-threads].
    #[arg(long, value_enum)]
    variant: Vec<Variant>,

    /// Concurrent requests in `io-gather`. At most 400: each in flight holds two sockets in
    /// this one process (client and server end), and 1024 descriptors is a common limit.
    #[arg(long, default_value_t = 200, value_parser = timing::between(1, 400))]
    requests: u64,

    /// How long the server holds back every response, and each wait sleeps, in milliseconds.
    #[arg(long, default_value_t = 50, value_parser = timing::between(1, 10_000))]
    delay_ms: u64,

    /// Tasks in each `cpu-*` variant (each one request, then one CPU step).
    #[arg(long, default_value_t = 32, value_parser = timing::between(1, 10_000))]
    tasks: u64,

    /// Iterations of each CPU step [default: what a pilot sum says holds cpu-inline's every
    /// worker for about 250 ms, so the heartbeats are compared in a debug or a release build].
    #[arg(long, value_parser = timing::between(1, 1_000_000_000))]
    work: Option<u64>,

    /// The length of each CPU step in milliseconds, instead of --work: a pilot sum converts it
    /// to iterations for this build and machine, so a length means the same in debug and
    /// release (and in the Python twin). Rows then carry `job_ms`.
    #[arg(long, value_parser = timing::between(1, 10_000))]
    job_ms: Option<u64>,

    /// Waits in `wait-tasks` and `wait-threads`, all waiting at once. wait-threads refuses more
    /// than the kernel's pid_max or threads-max, and stops with an error where a spawn fails.
    #[arg(long, default_value_t = 10_000, value_parser = timing::between(1, 1_000_000))]
    waits: u64,
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
    /// --waits tokio tasks waiting on timers at once, gathered in a JoinSet (run when named).
    WaitTasks,
    /// --waits OS threads waiting at once, small stacks, joined (run when named).
    WaitThreads,
}

impl Variant {
    /// What runs when no --variant is named: the lesson's tale, steps 1 to 4. The wait variants
    /// measure the process's memory and probe the machine's thread limits, so they run alone,
    /// when named.
    const TALE: [Variant; 4] = [
        Variant::IoGather,
        Variant::CpuInline,
        Variant::CpuSpawnBlocking,
        Variant::CpuRayon,
    ];
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
    let work = match (cli.work, cli.job_ms) {
        (Some(_), Some(_)) => {
            return Err(usage_error(
                "--work and --job-ms both size the CPU step: pass one of them",
            ));
        }
        (Some(work), None) => work,
        (None, Some(ms)) => pilot.work_for(Duration::from_millis(ms)),
        (None, None) => pilot.default_work(cli.tasks, workers),
    };
    let sizes = Sizes {
        requests: cli.requests,
        delay: Duration::from_millis(cli.delay_ms),
        tasks: cli.tasks,
        work,
        workers,
    };
    let variants = if cli.variant.is_empty() {
        Variant::TALE.to_vec()
    } else {
        timing::selected(&cli.variant)
    };
    let step = pilot.step_time(sizes.work);
    refuse_long_runs(sizes, step, &variants, cli.job_ms)?;
    // A wait step lasts about one delay (spawning aside): a long one says so, like any long run.
    let wait_steps = variants.iter().filter(|v| waits(v)).count() as u32;
    timing::check_duration(
        &format!("{} waits of {} ms", fmt_count(cli.waits), cli.delay_ms),
        sizes.delay * wait_steps,
        "pass a shorter --delay-ms",
    )?;
    let server = DelayServer::start(sizes.delay)?;
    let mut measured = Vec::new();
    for &variant in &variants {
        measured.push(match variant {
            Variant::IoGather => measure::io_gather(&server, sizes)?,
            Variant::CpuInline => measure::cpu_inline(&server, sizes)?,
            Variant::CpuSpawnBlocking => measure::cpu_spawn_blocking(&server, sizes, fault)?,
            Variant::CpuRayon => measure::cpu_rayon(&server, sizes)?,
            Variant::WaitTasks => measure::wait_tasks(cli.waits, sizes.delay, workers)?,
            Variant::WaitThreads => measure::wait_threads(cli.waits, sizes.delay)?,
        });
    }
    if let Some(ms) = cli.job_ms {
        for m in measured.iter_mut() {
            if matches!(m.outcome, Outcome::Mixed(_)) {
                m.row.extra.insert("job_ms".into(), ms.into());
            }
        }
    }
    // Every client is gone with its variant's runtime; now let the server finish and say so.
    server.shutdown()?;
    check::against_inline(&mut measured, check::expected_stall(sizes, step));
    let mut report = Report::new(LESSON);
    check::legend(
        &mut report,
        !variants.iter().all(waits),
        variants.iter().any(waits),
    );
    for line in verdict::verdicts(&measured) {
        report.verdict(line);
    }
    measured.into_iter().for_each(|m| report.push(m.row));
    report.print(cli.common.json);
    Ok(report.exit_code())
}

/// Whether `variant` is one of the wait steps, which have no heartbeat and measure memory.
fn waits(variant: &Variant) -> bool {
    matches!(variant, Variant::WaitTasks | Variant::WaitThreads)
}

/// Refuses a run estimated past ten minutes, and announces one past a few seconds.
fn refuse_long_runs(
    sizes: Sizes,
    step: Duration,
    variants: &[Variant],
    job_ms: Option<u64>,
) -> anyhow::Result<()> {
    let gather = variants.contains(&Variant::IoGather);
    let mixed = variants
        .iter()
        .filter(|v| {
            matches!(
                v,
                Variant::CpuInline | Variant::CpuSpawnBlocking | Variant::CpuRayon
            )
        })
        .count();
    let estimate = measure::estimate(sizes, step, gather, mixed);
    // The CPU steps dominate any long run, and their time grows with --work.
    let fits = timing::REFUSE_AFTER.as_secs_f64() / estimate.as_secs_f64().max(1e-9);
    let instead = match job_ms {
        Some(ms) => format!("--job-ms {}", ((ms as f64 * fits) as u64).max(1)),
        None => format!(
            "--work {}",
            fmt_count(((sizes.work as f64 * fits) as u64).max(1))
        ),
    };
    timing::check_duration(
        &format!(
            "{} tasks of {} iterations",
            fmt_count(sizes.tasks),
            fmt_count(sizes.work)
        ),
        estimate,
        &format!("pass {instead} or less, or fewer --tasks"),
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
            &["async-mixed", "--job-ms", "0"],
            &["async-mixed", "--waits", "0"],
            &["async-mixed", "--waits", "1000001"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
        let cli = Cli::try_parse_from(["async-mixed", "--variant", "cpu-rayon"]).unwrap();
        assert_eq!(cli.variant, [Variant::CpuRayon]);
        assert_eq!((cli.tasks, cli.work), (32, None));
    }
}
