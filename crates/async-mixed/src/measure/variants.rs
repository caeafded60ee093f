//! One function per variant: the step it runs, on its own runtime, and the row it makes.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use timing::Latencies;

use super::check::sum_of_squares_closed_form;
use super::{Beat, DelayServer, Fault, Measured, MixedOutcome, Outcome, Placement, body_for};
use super::{on_runtime, row};
use crate::steps::s2_cpu_inline::Mixed;
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
    let (right, cpu_threads) = tally(mixed, sizes.work);
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
    let outcome = MixedOutcome {
        placement,
        tasks: sizes.tasks,
        right,
        cpu_threads,
        beat: Beat::of(lateness),
        offload: None,
    };
    Measured {
        row,
        outcome: Outcome::Mixed(outcome),
    }
}

/// How many answers match the closed form, and how many threads computed them.
fn tally(mixed: &Mixed, work: u64) -> (u64, usize) {
    let right = mixed
        .done
        .iter()
        .filter(|d| d.seed == d.item && d.sum == sum_of_squares_closed_form(d.item, work))
        .count() as u64;
    let threads: HashSet<_> = mixed.done.iter().map(|d| d.thread).collect();
    (right, threads.len())
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
}
