//! `task-queue worker`: one worker process, pulling jobs from the broker until it is told to
//! stop. Run several, on one machine or many: the broker hands each job to one of them.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::bail;
use apalis::prelude::{
    BackendExt, Event, EventListenerExt, RetryPolicy, WorkerBuilder, WorkerBuilderExt,
    WorkerContext, WorkerError,
};

use crate::broker::{Broker, BrokerError};
use crate::fault::{self, Backoff, Outage};
use crate::job::{self, WorkerState};
use crate::queue::Queue;
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
///
/// A broker fault does not end it. apalis 1.0 ends a worker on the first error from its
/// broker ("database is locked", a dropped Redis connection), so this loop supervises it: it
/// asks the broker whether the fault is one that passes ([`Queue::probe`]), waits with
/// [`Backoff`] while it does, and starts a new apalis worker on the same connections. Only a
/// fault that does not pass (the file is no queue, the password is refused) ends the process.
pub async fn run(broker: &Broker, options: WorkerOptions) -> anyhow::Result<()> {
    let stop = Stop::on_signals(options.parent_pid)?;
    let name = worker_name();
    let connect = broker.connect_patiently(&options.queue, &name);
    let mut queue = tokio::select! {
        queue = connect => queue?,
        () = stop.wait() => return Ok(()),
    };
    if options.parent_pid.is_none() {
        // Started by hand (not by `demo`, whose output this would clutter): say who we are.
        eprintln!(
            "{name}: pulling jobs from queue {} on {broker}, {} at a time; Ctrl-C to stop",
            options.queue, options.concurrency
        );
    }
    let state = WorkerState {
        retries: options.retries,
        die_on_job: options.die_on_job,
        started: Arc::new(AtomicU64::new(0)),
    };
    let outage = Arc::new(Mutex::new(Outage::new(name.clone())));
    let mut backoff = Backoff::default();
    for generation in 0u64.. {
        // Each restart is a new worker to the broker, under a new name: the jobs the failed
        // one held go back on the queue once its heartbeat has been silent long enough, as a
        // killed worker's do (reusing the name would be refused until then).
        let incarnation = if generation == 0 {
            name.clone()
        } else {
            format!("{name}-r{generation}")
        };
        let healthy = Arc::new(AtomicBool::new(false));
        let ended = run_once(
            &queue,
            incarnation,
            &options,
            &state,
            &stop,
            &healthy,
            &outage,
        );
        let Err(error) = ended.await else {
            return Ok(());
        };
        if stop.is_set() {
            return Ok(());
        }
        // Relaxed: a flag read after the worker that set it has ended.
        if healthy.load(Ordering::Relaxed) {
            backoff = Backoff::default();
        }
        lock(&outage).begin(&error);
        match recover(broker, &options.queue, &mut backoff, &stop).await? {
            Some(fresh) => queue = fresh,
            None => return Ok(()),
        }
    }
    Ok(())
}

/// One apalis worker on `queue`, until `stop` or a broker error. Its first heartbeat (or
/// finished job) after an outage tells the outage is over.
async fn run_once(
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
            lock(&outage).end();
        }
    };
    let until = stop.clone().wait_owned();
    // Two arms of the same lines: the builder's type differs per backend.
    match queue.clone() {
        Queue::Sqlite(storage) => {
            WorkerBuilder::new(name)
                .backend(storage.poll_with_interval(POLL_INTERVAL))
                .data(state.clone())
                .retry(RetryPolicy::retries(options.retries))
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
                .retry(RetryPolicy::retries(options.retries))
                .concurrency(options.concurrency)
                .on_event(on_event)
                .build(job::handle)
                .run_until(until)
                .await
        }
    }
}

/// Connects to the broker again, with backoff, until it answers ([`Queue::probe`]) or `stop`
/// is set (`None`); fails on an error that waiting does not cure.
///
/// A new connection, not the failed worker's: apalis' futures were dropped mid-flight, and a
/// SQLite connection dropped inside a transaction they began must not go back to work (it
/// would hold the write lock that every other process waits for). Once connected, a Redis
/// server that is not there is one restarting, so it is waited for like a busy one.
async fn recover(
    broker: &Broker,
    queue: &str,
    backoff: &mut Backoff,
    stop: &Stop,
) -> anyhow::Result<Option<Queue>> {
    loop {
        tokio::select! {
            () = tokio::time::sleep(backoff.next_wait()) => {}
            () = stop.wait() => return Ok(None),
        }
        let mut fresh = match broker.connect(queue).await {
            Ok(fresh) => fresh,
            Err(
                BrokerError::Busy { .. }
                | BrokerError::Redis {
                    transient: true, ..
                },
            ) => continue,
            // An error of its own, not the BrokerError: that one means bad input (exit 2),
            // and this broker was good input until now.
            Err(e) => bail!("the broker failed for good: {e}"),
        };
        match fresh.probe().await {
            Ok(()) => return Ok(Some(fresh)),
            Err(e) if fault::is_transient(&e) => {}
            Err(e) => bail!("the broker failed for good: {e:#}"),
        }
    }
}

/// The outage reporter's lock. A poisoned lock means a thread panicked while printing a line;
/// the reporter's state (when the outage began) is still sound, so it is used as it is.
fn lock(outage: &Mutex<Outage>) -> std::sync::MutexGuard<'_, Outage> {
    outage
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
