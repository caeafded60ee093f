//! One function per variant: the step it runs, on its own runtime, and the row it makes.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use timing::{Latencies, Stopwatch, usage_error};

use super::check::sum_of_squares_closed_form;
use super::{Beat, DelayServer, Measured, MixedOutcome, Outcome, Placement, body_for};
use super::{on_runtime, row};
use crate::steps::s2_cpu_inline::{Mixed, sum_of_squares};
use crate::steps::{s1_io_gather, s2_cpu_inline, s3_spawn_blocking, s4_rayon};

/// The sizes of a run.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Requests in flight at once in `io-gather`.
    pub requests: u64,
    /// How long the server holds back each response.
    pub delay: Duration,
    /// Tasks in each mixed step (each one request, then one CPU step).
    pub tasks: u64,
    /// Iterations of each CPU step.
    pub work: u64,
    /// The runtime's worker threads, and the threads the CPU steps may use at once.
    pub workers: usize,
}

/// The environment variable that injects a fault, so a test can see a broken step caught.
pub const FAULT_ENV: &str = "ASYNC_MIXED_FAULT";

/// A fault a test injects through [`FAULT_ENV`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `spawn-blocking-runs-inline`: `cpu-spawn-blocking` runs step 2's inline code under its
    /// own name, the mistake its heartbeat check is there to catch.
    SpawnBlockingRunsInline,
}

impl Fault {
    /// The fault [`FAULT_ENV`] names, if set; any other value is bad input.
    pub fn from_env() -> anyhow::Result<Option<Fault>> {
        match std::env::var(FAULT_ENV) {
            Err(std::env::VarError::NotPresent) => Ok(None),
            Ok(value) if value == "spawn-blocking-runs-inline" => {
                Ok(Some(Fault::SpawnBlockingRunsInline))
            }
            Ok(value) => Err(usage_error(format!(
                "{FAULT_ENV}={value:?} names no fault: the one fault is spawn-blocking-runs-inline"
            ))),
            Err(err) => Err(usage_error(format!("{FAULT_ENV}: {err}"))),
        }
    }
}

/// Step 1, timed: every body checked against what the server sends for its item.
pub fn io_gather(server: &DelayServer, sizes: Sizes) -> anyhow::Result<Measured> {
    let base = server.base_url();
    let seen = on_runtime(sizes.workers, sizes.delay, |client| async move {
        s1_io_gather::run(&client, &base, sizes.requests).await
    })?;
    let fetched = seen.value;
    let whole = fetched
        .iter()
        .filter(|(n, body)| matches!(body, Ok(b) if b[..] == *body_for(*n).as_bytes()))
        .count() as u64;
    let note = match fetched.iter().find_map(|(_, body)| body.as_ref().err()) {
        Some(err) => format!("failed: {err}"),
        None => format!(
            "{:.1}x one delay",
            seen.wall.as_secs_f64() / sizes.delay.as_secs_f64()
        ),
    };
    Ok(Measured {
        row: row("io-gather", sizes.workers)
            .items(sizes.requests)
            .check(sizes.requests, whole)
            .wall(seen.wall)
            .note(note)
            .extra("delay_ms", sizes.delay.as_millis() as u64),
        outcome: Outcome::Gathered {
            requests: sizes.requests,
            whole,
            delay: sizes.delay,
        },
    })
}

/// Step 2, timed beside the heartbeat.
pub fn cpu_inline(server: &DelayServer, sizes: Sizes) -> anyhow::Result<Measured> {
    let base = server.base_url();
    let seen = on_runtime(sizes.workers, sizes.delay, |client| async move {
        s2_cpu_inline::run(&client, &base, sizes.tasks, sizes.work).await
    })?;
    Ok(mixed(
        Placement::Inline,
        sizes,
        &seen.value,
        &seen.lateness,
        seen.wall,
    ))
}

/// Step 3, timed beside the heartbeat; with [`Fault::SpawnBlockingRunsInline`], step 2 under
/// step 3's name.
pub fn cpu_spawn_blocking(
    server: &DelayServer,
    sizes: Sizes,
    fault: Option<Fault>,
) -> anyhow::Result<Measured> {
    let base = server.base_url();
    let seen = on_runtime(sizes.workers, sizes.delay, |client| async move {
        match fault {
            Some(Fault::SpawnBlockingRunsInline) => {
                s2_cpu_inline::run(&client, &base, sizes.tasks, sizes.work).await
            }
            None => {
                s3_spawn_blocking::run(&client, &base, sizes.tasks, sizes.work, sizes.workers).await
            }
        }
    })?;
    let placement = Placement::SpawnBlocking;
    Ok(mixed(
        placement,
        sizes,
        &seen.value,
        &seen.lateness,
        seen.wall,
    ))
}

/// Step 4, timed beside the heartbeat; the pool is built before the clock starts.
pub fn cpu_rayon(server: &DelayServer, sizes: Sizes) -> anyhow::Result<Measured> {
    let pool = Arc::new(s4_rayon::pool(sizes.workers).context("building the rayon pool")?);
    let base = server.base_url();
    let seen = on_runtime(sizes.workers, sizes.delay, |client| async move {
        s4_rayon::run(&client, &base, sizes.tasks, sizes.work, pool).await
    })?;
    Ok(mixed(
        Placement::Rayon,
        sizes,
        &seen.value,
        &seen.lateness,
        seen.wall,
    ))
}

/// The row of a mixed step: every answer checked against the closed form, the heartbeat's
/// lateness, and how many threads ran the CPU steps.
fn mixed(
    placement: Placement,
    sizes: Sizes,
    mixed: &Mixed,
    lateness: &Latencies,
    wall: Duration,
) -> Measured {
    let right = mixed
        .done
        .iter()
        .filter(|d| d.seed == d.item && d.sum == sum_of_squares_closed_form(d.item, sizes.work))
        .count() as u64;
    let cpu_threads = mixed
        .done
        .iter()
        .map(|d| d.thread)
        .collect::<HashSet<_>>()
        .len();
    let note = match mixed.failed.first() {
        Some(err) => format!("failed: {err}"),
        None => format!("CPU steps ran on {cpu_threads} threads"),
    };
    let row = row(placement.variant(), sizes.workers)
        .items(sizes.tasks)
        .check(sizes.tasks, right)
        // A heartbeat that never ticked measured nothing.
        .require(lateness.count() > 0)
        .wall(wall)
        .latencies(lateness)
        .note(note)
        .extra("cpu_threads", cpu_threads as u64)
        .extra("heartbeat_ticks", lateness.count())
        .extra("work", sizes.work);
    let beat = Beat {
        p50_ns: lateness.p50_ns(),
        p99_ns: lateness.p99_ns(),
        max_ns: lateness.max_ns(),
        ticks: lateness.count(),
    };
    let outcome = MixedOutcome {
        placement,
        tasks: sizes.tasks,
        right,
        cpu_threads,
        beat,
        offload: None,
    };
    Measured {
        row,
        outcome: Outcome::Mixed(outcome),
    }
}

/// Iterations of the CPU step the pilot times.
const PILOT_WORK: u64 = 200_000;

/// How long one CPU step of `work` iterations takes on this machine and build, from a pilot
/// sum of a few hundred thousand iterations.
pub fn cpu_step_time(work: u64) -> Duration {
    let (_, pilot) = Stopwatch::time(|| sum_of_squares(1, PILOT_WORK));
    timing::extrapolate(PILOT_WORK, pilot, work)
}

/// How long a run of `gather` (io-gather or not) and `mixed` mixed steps should take: one delay
/// each, plus every CPU step (`step` long) spread over the workers.
pub fn estimate(sizes: Sizes, step: Duration, gather: bool, mixed: usize) -> Duration {
    let parallel = sizes.workers.min(timing::cores()).max(1);
    let cpu = step.mul_f64(sizes.tasks as f64 / parallel as f64);
    let steps = u32::from(gather) + mixed as u32;
    sizes.delay * steps + cpu * mixed as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: Sizes = Sizes {
        requests: 10,
        delay: Duration::from_millis(2),
        tasks: 6,
        work: 2_000,
        workers: 2,
    };

    #[test]
    fn every_variant_checks_out_against_the_closed_form() {
        let server = DelayServer::start(SIZES.delay).unwrap();
        let gathered = io_gather(&server, SIZES).unwrap();
        assert!(gathered.row.correct, "{:?}", gathered.row);
        for measured in [
            cpu_inline(&server, SIZES).unwrap(),
            cpu_spawn_blocking(&server, SIZES, None).unwrap(),
            cpu_rayon(&server, SIZES).unwrap(),
        ] {
            assert!(measured.row.correct, "{:?}", measured.row);
            assert_eq!(measured.row.result, SIZES.tasks);
            assert!(measured.row.p99_ns.is_some());
        }
        server.shutdown().unwrap();
    }

    #[test]
    fn rayon_runs_cpu_steps_on_its_own_threads_only() {
        let server = DelayServer::start(SIZES.delay).unwrap();
        let sizes = Sizes {
            workers: 1,
            ..SIZES
        };
        let Outcome::Mixed(mixed) = cpu_rayon(&server, sizes).unwrap().outcome else {
            panic!("cpu-rayon is a mixed step");
        };
        assert_eq!(mixed.cpu_threads, 1);
        server.shutdown().unwrap();
    }

    #[test]
    fn the_estimate_grows_with_the_work() {
        let absurd = Sizes {
            work: 1_000_000_000,
            tasks: 10_000,
            ..SIZES
        };
        let long = estimate(absurd, cpu_step_time(absurd.work), true, 3);
        assert!(long > timing::REFUSE_AFTER, "{long:?}");
        let short = estimate(SIZES, cpu_step_time(SIZES.work), true, 3);
        assert!(short < Duration::from_secs(1), "{short:?}");
    }
}
