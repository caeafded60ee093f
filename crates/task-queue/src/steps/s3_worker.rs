//! Step 3: the worker, Celery's `celery -A tasks worker`: an apalis `WorkerBuilder` that pulls
//! jobs from the broker, a few at a time, and runs the step 1 handler on each.
//!
//! Since step 2: the other end of the queue. Run several, on one machine or many: the broker
//! hands each job to one of them. The worker polls an empty queue on a short interval, beats a
//! heartbeat into the broker (a silent worker's jobs go back on the queue), retries a failing
//! job, and runs until a stop signal, handing back the jobs it fetched but did not start.

// ANCHOR: pattern
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apalis::prelude::{
    BackendExt, Event, EventListenerExt, WorkerBuilder, WorkerBuilderExt, WorkerContext,
    WorkerError,
};

use crate::fault::{Outage, locked};
use crate::queue::Queue;
use crate::steps::s1_job::{self as job, WorkerState};
use crate::stop::Stop;

/// How often an idle worker asks the broker for new jobs. Without a poll strategy an apalis
/// worker that found the queue empty only looks again on its next heartbeat. Not much more
/// often than this: on SQLite each look is a write transaction (apalis claims jobs with an
/// `UPDATE`, which takes the file's write lock even when it claims none), so idle workers
/// looking every few milliseconds keep the lock from the producer that would give them work.
/// A busy worker does not wait for it: it fetches again as soon as its batch is done.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How a worker process runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The queue to pull from.
    pub queue: String,
    /// Jobs one worker process runs at the same time.
    pub concurrency: usize,
    /// Retries of a failing job, in this worker, before it is recorded as failed.
    pub retries: usize,
    /// Stop when this process is no longer the parent (the demo that started us died).
    pub parent_pid: Option<u32>,
}

/// The worker's name in the broker: host and pid, so that it is unique across the machines
/// sharing a broker. apalis re-queues a dead worker's jobs by name; two live workers with one
/// name would hide each other's death (apalis issues #504, #507).
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "host".to_string());
    format!("task-queue-{host}-{}", std::process::id())
}

/// One apalis worker named `name` on `queue`, until `stop` or a broker error. Its first
/// heartbeat (or finished job) after an outage sets `healthy` and ends the `outage` report.
pub async fn run_once(
    queue: &Queue,
    name: String,
    options: &WorkerOptions,
    state: &WorkerState,
    stop: &Stop,
    healthy: &Arc<AtomicBool>,
    outage: &Arc<Mutex<Outage>>,
) -> Result<(), WorkerError> {
    let (healthy, outage) = (Arc::clone(healthy), Arc::clone(outage));
    let on_event = move |_: &WorkerContext, event: &Event| {
        // Relaxed: a plain flag, read by the supervisor only after this worker ended.
        if matches!(event, Event::HeartBeat | Event::Success(_))
            && !healthy.swap(true, Ordering::Relaxed)
        {
            locked(&outage).end();
        }
    };
    let until = stop.clone().wait_owned();
    // Two arms of the same lines: the builder's type differs per backend.
    match queue.clone() {
        Queue::Sqlite(storage) => {
            WorkerBuilder::new(name)
                .backend(storage.poll_with_interval(POLL_INTERVAL))
                .data(state.clone())
                .retry(state.retries.policy())
                .concurrency(options.concurrency)
                .on_event(on_event)
                .build(job::handle)
                .run_until(until)
                .await
        }
        Queue::Redis(storage) => {
            WorkerBuilder::new(name)
                .backend(storage.poll_with_interval(POLL_INTERVAL))
                .data(state.clone())
                .retry(state.retries.policy())
                .concurrency(options.concurrency)
                .on_event(on_event)
                .build(job::handle)
                .run_until(until)
                .await
        }
    }
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_names_carry_the_pid() {
        let name = worker_name();
        assert!(
            name.ends_with(&format!("-{}", std::process::id())),
            "{name}"
        );
    }
}
