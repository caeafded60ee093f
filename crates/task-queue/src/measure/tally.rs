//! The demo's row: every finished job checked against the closed form, its latency recorded,
//! and its deliveries counted.

use std::time::Duration;

use timing::{Latencies, Mechanism, Row};

use super::batch::Batch;
use super::{DemoOptions, DemoOutcome};
use crate::broker::Broker;
use crate::steps::s1_job as job;

/// What the finished jobs add up to.
pub(super) struct Tally {
    /// Enqueue-to-done time of every job that succeeded.
    latencies: Latencies,
    /// Jobs whose result equals the closed form.
    correct: u64,
    /// Jobs that failed for good, by number, with their errors.
    failures: Vec<(u64, String)>,
    /// Jobs started more than once.
    rerun: u64,
    /// Deliveries no retry explains.
    redeliveries: u64,
}

impl Tally {
    /// Checks every finished job's result against [`job::expected`].
    fn of(batch: &Batch, work: u64) -> Self {
        let mut tally = Self {
            latencies: Latencies::new(),
            correct: 0,
            failures: Vec::new(),
            rerun: 0,
            redeliveries: 0,
        };
        for (n, record) in &batch.finished {
            if record.attempts > 1 {
                tally.rerun += 1;
            }
            // A job that succeeded ran once for good: its other deliveries were lost with a
            // worker (the jobs fail only on purpose, and those never succeed). A job that
            // failed for good ran `attempts` times in its workers: the rest were lost.
            let ran = if record.result.is_ok() {
                1
            } else {
                record.attempts as u64
            };
            tally.redeliveries += record.deliveries.saturating_sub(ran);
            match &record.result {
                Ok(output) => {
                    if output.value == job::expected(*n, work) {
                        tally.correct += 1;
                    }
                    // Job `n` is `jobs[n]`: numbered from 0 in submission order.
                    let enqueued = batch.jobs[*n as usize].enqueued_us;
                    let waited_us = output.done_us.saturating_sub(enqueued);
                    tally.latencies.record_ns(waited_us * 1000);
                }
                Err(e) => tally.failures.push((*n, e.clone())),
            }
        }
        tally.failures.sort();
        tally
    }
}

/// Checks every job's result against the closed form and builds the row.
pub(super) fn check(
    broker: &Broker,
    options: &DemoOptions,
    batch: &Batch,
    wall: Duration,
    restarts: usize,
) -> DemoOutcome {
    let Tally {
        latencies,
        correct,
        failures,
        rerun,
        redeliveries,
    } = Tally::of(batch, options.work);
    let row = Row::new(crate::LESSON, broker.kind())
        .mechanism(Mechanism::Broker)
        .workers(options.workers)
        .items(options.jobs)
        .check(options.jobs, correct)
        .wall(wall)
        .latencies(&latencies)
        .extra("failed", failures.len())
        .extra("rerun", rerun)
        .extra("redeliveries", redeliveries)
        .extra("worker_restarts", restarts)
        .extra("concurrency", options.concurrency)
        .extra("in_flight", options.workers * options.concurrency)
        .note(format!(
            "{} worker processes x {} jobs each at once = {} in flight; {redeliveries} \
             redeliveries",
            options.workers,
            options.concurrency,
            options.workers * options.concurrency
        ));
    DemoOutcome {
        row,
        failures,
        rerun,
        redeliveries,
        restarts,
    }
}
