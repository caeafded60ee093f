//! Steps 5 and 6, timed, with the peak memory the process reached during each; step 6 first
//! checked against the machine's thread limits ([`super::limits`]).
//!
//! Peak memory is the kernel's high-water mark of the process's resident set (`VmHWM` in
//! `/proc/self/status`), reset just before the step by writing `5` to `/proc/self/clear_refs`,
//! so each row's peak is its own step's even when several run in one process. The row carries
//! the resident set just before (`base_rss_kib`) too: the difference over the waits is what one
//! wait costs.

use std::fs;
use std::time::Duration;

use anyhow::Context as _;
use timing::{Mechanism, Row, Stopwatch, fmt_count};

use super::limits::ThreadLimits;
use super::{Measured, Outcome, row};
use crate::steps::s5_wait_tasks::Waited;
use crate::steps::{runtime, s5_wait_tasks, s6_wait_threads};

/// What a wait step did, and the memory it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitOutcome {
    /// `wait-tasks` or `wait-threads`.
    pub variant: &'static str,
    /// Waits asked for, and how many were waiting at once.
    pub waited: Waited,
    /// How long each wait slept.
    pub delay: Duration,
    /// Resident set just before the step, KiB.
    pub base_rss_kib: u64,
    /// The most resident memory the process held during the step, KiB.
    pub peak_rss_kib: u64,
}

impl WaitOutcome {
    /// Resident memory the step added at its peak, per wait, in bytes.
    pub fn bytes_per_wait(&self) -> u64 {
        self.peak_rss_kib.saturating_sub(self.base_rss_kib) * 1024 / self.waited.started.max(1)
    }
}

/// Step 5 on a fresh runtime of `workers` workers.
pub fn wait_tasks(waits: u64, delay: Duration, workers: usize) -> anyhow::Result<Measured> {
    let runtime = runtime(workers).context("building the tokio runtime")?;
    let (outcome, wall) = watched("wait-tasks", delay, || {
        Ok(runtime.block_on(s5_wait_tasks::run(count(waits), delay))?)
    })?;
    Ok(measured(outcome, row("wait-tasks", workers), wall))
}

/// Step 6, refused before any spawn when `waits` is over a limit the kernel states; a spawn that
/// fails midway is an error naming the limits.
pub fn wait_threads(waits: u64, delay: Duration) -> anyhow::Result<Measured> {
    let limits = ThreadLimits::read()?;
    limits.refuse(waits)?;
    let (outcome, wall) = watched("wait-threads", delay, || {
        s6_wait_threads::run(count(waits), delay)
            .with_context(|| format!("wait-threads ({})", limits.describe()))
    })?;
    let row = Row::new(crate::LESSON, "wait-threads")
        .mechanism(Mechanism::Threads)
        .workers(count(waits))
        .extra("stack_kib", (s6_wait_threads::STACK / 1024) as u64);
    Ok(measured(outcome, row, wall))
}

/// Runs a wait step (`variant`, each wait `delay` long), timed, with the process's resident set
/// just before it and its peak during it.
fn watched(
    variant: &'static str,
    delay: Duration,
    step: impl FnOnce() -> anyhow::Result<Waited>,
) -> anyhow::Result<(WaitOutcome, Duration)> {
    let base_rss_kib = reset_peak_rss()?;
    let watch = Stopwatch::start();
    let waited = step()?;
    let wall = watch.elapsed();
    let outcome = WaitOutcome {
        variant,
        waited,
        delay,
        base_rss_kib,
        peak_rss_kib: status_kib("VmHWM")?,
    };
    Ok((outcome, wall))
}

/// The row of a wait step: the waits under way at once checked against those asked for.
fn measured(outcome: WaitOutcome, row: Row, wall: Duration) -> Measured {
    let Waited {
        started,
        most_at_once,
    } = outcome.waited;
    let note = if most_at_once == started {
        format!(
            "{:.1}x one delay; {} B a wait",
            wall.as_secs_f64() / outcome.delay.as_secs_f64(),
            fmt_count(outcome.bytes_per_wait())
        )
    } else {
        format!(
            "only {} of {} waiting at once: the first ended before the last began",
            fmt_count(most_at_once),
            fmt_count(started)
        )
    };
    let row = row
        .items(started)
        .check(started, most_at_once)
        .wall(wall)
        .note(note)
        .extra("delay_ms", outcome.delay.as_millis() as u64)
        .extra("base_rss_kib", outcome.base_rss_kib)
        .extra("peak_rss_kib", outcome.peak_rss_kib);
    Measured {
        row,
        outcome: Outcome::Waited(outcome),
    }
}

/// `--waits` as a count to spawn: the CLI caps it far below `usize::MAX`.
fn count(waits: u64) -> usize {
    usize::try_from(waits).unwrap_or(usize::MAX)
}

/// Resets the process's peak resident set to its current size, and returns that size (KiB).
fn reset_peak_rss() -> anyhow::Result<u64> {
    fs::write("/proc/self/clear_refs", "5").context("resetting the peak memory")?;
    status_kib("VmRSS")
}

/// Field `name` of `/proc/self/status`, in KiB.
fn status_kib(name: &str) -> anyhow::Result<u64> {
    let status = fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|value| value.trim().strip_suffix("kB")?.trim().parse().ok())
        .with_context(|| format!("no {name} in /proc/self/status"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_covers_memory_touched_after_the_reset() {
        let base = reset_peak_rss().unwrap();
        let block = vec![1u8; 32 << 20];
        let peak = status_kib("VmHWM").unwrap();
        assert!(peak >= base + 16 * 1024, "{base} KiB then {peak} KiB");
        drop(std::hint::black_box(block));
    }

    #[test]
    fn tasks_count_every_wait_and_report_memory() {
        let measured = wait_tasks(300, Duration::from_millis(5), 2).unwrap();
        assert!(measured.row.correct, "{:?}", measured.row);
        assert_eq!(measured.row.result, 300);
        assert!(measured.row.extra["peak_rss_kib"].as_u64().unwrap() > 0);
    }
}
