//! `task-queue worker`: one worker process, pulling jobs from the broker until it is told to
//! stop. Run several, on one machine or many: the broker hands each job to one of them.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use apalis::prelude::{BackendExt, RetryPolicy, WorkerBuilder, WorkerBuilderExt};

use crate::broker::Broker;
use crate::job::{self, WorkerState};
use crate::queue::Queue;

/// How often an idle worker asks the broker for new jobs. Without a poll strategy an apalis
/// worker that found the queue empty only looks again on its next heartbeat.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// How a worker process runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The queue to pull from.
    pub queue: String,
    /// Jobs one worker process runs at the same time.
    pub concurrency: usize,
    /// Retries of a failing job, in this worker, before it is recorded as failed.
    pub retries: usize,
    /// Fault injection: kill this process with SIGKILL in the middle of its Nth job.
    pub die_on_job: Option<u64>,
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

/// Runs one worker until SIGINT or SIGTERM (or the parent's death); jobs in hand are finished
/// and jobs fetched but not started are handed back to the broker before it returns.
pub async fn run(broker: &Broker, options: WorkerOptions) -> anyhow::Result<()> {
    let queue = broker.connect(&options.queue).await?;
    let state = WorkerState {
        retries: options.retries,
        die_on_job: options.die_on_job,
        started: Arc::new(AtomicU64::new(0)),
    };
    let name = worker_name();
    if options.parent_pid.is_none() {
        // Started by hand (not by `demo`, whose output this would clutter): say who we are.
        eprintln!(
            "{name}: pulling jobs from queue {} on {broker}, {} at a time; Ctrl-C to stop",
            options.queue, options.concurrency
        );
    }
    let stop = shutdown_signal(options.parent_pid);
    // Two arms of the same five lines: the builder's type differs per backend.
    match queue {
        Queue::Sqlite(storage) => {
            WorkerBuilder::new(name)
                .backend(storage.poll_with_interval(POLL_INTERVAL))
                .data(state)
                .retry(RetryPolicy::retries(options.retries))
                .concurrency(options.concurrency)
                .build(job::handle)
                .run_until(stop)
                .await?
        }
        Queue::Redis(storage) => {
            WorkerBuilder::new(name)
                .backend(storage.poll_with_interval(POLL_INTERVAL))
                .data(state)
                .retry(RetryPolicy::retries(options.retries))
                .concurrency(options.concurrency)
                .build(job::handle)
                .run_until(stop)
                .await?
        }
    }
    Ok(())
}

/// Completes on SIGINT, SIGTERM, or when `parent_pid` is no longer our parent.
async fn shutdown_signal(parent_pid: Option<u32>) -> Result<(), std::io::Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let orphaned = async move {
        let Some(parent) = parent_pid else {
            return std::future::pending().await;
        };
        // Polling getppid is the portable way to notice (Linux's PR_SET_PDEATHSIG would need
        // unsafe code between fork and exec, which std's `Command` does for us otherwise).
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if nix::unistd::getppid().as_raw() as u32 != parent {
                return;
            }
        }
    };
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
        () = orphaned => {}
    }
    Ok(())
}

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
