//! The `race-lock` binary: runs the lesson's variants and prints the table or JSON lines.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use race_lock::steps::WorkerPanicked;
use race_lock::{measure, verdict};
use timing::Report;

/// Ten threads add to one counter. `racy` reads, then writes in a separate step, and loses
/// updates; `mutex`, `atomic` (fetch_add) and `rwlock` (read-mostly: 1 write in 10) keep every
/// one; `semaphore` lets at most --permits threads in at once (built from Mutex + Condvar);
/// `condvar` passes items from producers to consumers through a bounded buffer, each consumed
/// exactly once. Shows throughput and lock waits (p50/p99/max) of each. Variants: racy, mutex,
/// atomic, rwlock, semaphore, condvar.
#[derive(Debug, Parser)]
#[command(
    version,
    allow_negative_numbers = true,
    mut_arg("workers", |arg| arg.help("Threads doing the work [default: 10, the tutorial's ten]"))
)]
struct Cli {
    #[command(flatten)]
    common: timing::CommonArgs,

    /// Run only this variant (repeatable) [default: all].
    #[arg(long, value_enum)]
    variant: Vec<Variant>,

    /// Increments per thread (racy, mutex, atomic), or operations per thread (rwlock).
    #[arg(long, default_value_t = 200_000, value_parser = timing::between(1, 10_000_000))]
    increments: u64,

    /// Tasks per thread for the semaphore; each holds a permit for 100 µs.
    #[arg(long, default_value_t = 400, value_parser = timing::between(1, 100_000))]
    tasks: u64,

    /// Threads the semaphore lets in at once.
    #[arg(long, default_value_t = 3, value_parser = timing::between(1, 1024))]
    permits: u64,

    /// Items the condvar producers pass to the consumers, in all.
    #[arg(long, default_value_t = 500_000, value_parser = timing::between(1, 100_000_000))]
    items: u64,

    /// Slots in the condvar's bounded buffer.
    #[arg(long, default_value_t = 64, value_parser = timing::between(1, 1_000_000))]
    capacity: u64,
}

/// The lesson's variants, in the order the lesson builds them up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Variant {
    /// Read, then write in a separate step: loses updates (deliberately broken).
    Racy,
    /// Every increment under a `Mutex`.
    Mutex,
    /// `AtomicU64::fetch_add`: the read and the write in one instruction.
    Atomic,
    /// A read-mostly mix on an `RwLock`: 1 write in 10.
    Rwlock,
    /// At most --permits threads at once, through a counting semaphore.
    Semaphore,
    /// Producers and consumers through a bounded buffer on `Mutex` + `Condvar`.
    Condvar,
}

/// The tutorial's thread count, and so this lesson's default for `--workers`.
const TUTORIAL_THREADS: usize = 10;

fn main() -> ExitCode {
    timing::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    // No child to reap here, but Ctrl-C should end the run as every lesson's does: status 130
    // and one line, not death by SIGINT, which scripts read apart from an exit status.
    let _reaper = reaper::install().context("installing the Ctrl-C handler")?;
    let workers = cli.common.workers.map_or(TUTORIAL_THREADS, usize::from);
    let variants = timing::selected(&cli.variant);
    let (permits, capacity) = (cli.permits as usize, cli.capacity as usize);
    let estimate = variants.iter().map(|v| estimate(*v, &cli, workers)).sum();
    timing::check_duration(
        "this run",
        estimate,
        "pass smaller --increments, --tasks or --items, or more --permits",
    )?;
    let mut measured = Vec::new();
    for variant in variants {
        measured.push(match variant {
            Variant::Racy => measure::racy(workers, cli.increments),
            Variant::Mutex => measure::mutex(workers, cli.increments),
            Variant::Atomic => measure::atomic(workers, cli.increments),
            Variant::Rwlock => measure::rwlock(workers, cli.increments),
            Variant::Semaphore => measure::semaphore(workers, cli.tasks, permits),
            Variant::Condvar => measure::condvar(workers, cli.items, capacity),
        }?);
    }
    let mut report = Report::new(race_lock::LESSON);
    report.legend(format!(
        "p50/p99/max: the wait to take a lock (mutex, rwlock: one in {}; semaphore: every wait \
         for a permit; condvar: one push or pop in {0})",
        measure::SAMPLE_EVERY
    ));
    for line in verdict::verdicts(&measured) {
        report.verdict(line);
    }
    measured.into_iter().for_each(|m| report.push(m.row));
    report.print(cli.common.json);
    Ok(report.exit_code())
}

/// How long `variant` will take at these sizes: the semaphore from its hold time (a 100 µs sleep
/// overshoots to about twice that), the others from a small pilot run of the same variant.
fn estimate(variant: Variant, cli: &Cli, workers: usize) -> Duration {
    const PILOT: u64 = 20_000;
    let pilot = |run: &dyn Fn(u64) -> Result<measure::Measured, WorkerPanicked>, items: u64| {
        let size = items.min(PILOT);
        let (_, took) = timing::Stopwatch::time(|| run(size));
        timing::extrapolate(size, took, items)
    };
    match variant {
        Variant::Semaphore => {
            let rounds = (workers as u64 * cli.tasks).div_ceil(cli.permits);
            (2 * race_lock::steps::s5_semaphore::HOLD)
                .saturating_mul(rounds.try_into().unwrap_or(u32::MAX))
        }
        Variant::Condvar => pilot(
            &|n| measure::condvar(workers, n, cli.capacity as usize),
            cli.items,
        ),
        _ => pilot(&|n| measure::mutex(workers, n), cli.increments),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_rejects_zero_and_absurd_sizes() {
        for args in [
            &["race-lock", "--increments", "0"][..],
            &["race-lock", "--increments", "10000001"],
            &["race-lock", "--permits", "1025"],
            &["race-lock", "--workers", "0"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
        let cli = Cli::try_parse_from(["race-lock", "--variant", "racy"]).unwrap();
        assert_eq!(cli.variant, [Variant::Racy]);
        assert_eq!(cli.common.workers, None);
    }
}
