//! Step 4: surviving broker faults: a supervising loop that restarts the step 3 worker, with
//! backoff, whenever the broker fails under it.
//!
//! Since step 3: apalis 1.0 ends a worker on the first error from its broker ("database is
//! locked", a dropped Redis connection), where Celery's workers reconnect on their own. So the
//! process runs the worker in a loop: when it ends on an error, the loop connects again,
//! asks the broker whether the fault is one that passes ([`Queue::probe`]), waits with
//! [`Backoff`] while it does, and starts a new apalis worker. A fault that does not pass (a
//! damaged, read-only or full file, a Redis out of memory, a refused password) ends the
//! process, said once: the worker's error says so by its type, or the probe does.

// ANCHOR: pattern
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::broker::{Broker, BrokerError};
use crate::fault::{self, Backoff, Outage, locked};
use crate::queue::Queue;
use crate::steps::s1_job::{Retries, WorkerState};
use crate::steps::s3_worker::{WorkerOptions, run_once, worker_name};
use crate::stop::Stop;

/// Why a worker process stopped other than on a stop signal.
#[derive(Debug, thiserror::Error)]
pub enum WorkerEnded {
    /// The broker was not there, or not usable, at start: the user's to fix.
    #[error(transparent)]
    Broker(#[from] BrokerError),
    /// The broker worked, then failed in a way that waiting does not cure.
    #[error("the broker failed for good: {0}")]
    ForGood(String),
}

/// Runs one worker until `stop` (SIGINT, SIGTERM, the parent's death); jobs in hand are
/// finished and jobs fetched but not started are handed back to the broker before it returns.
/// Ends with [`WorkerEnded::ForGood`] on a fault that waiting does not cure.
pub async fn run(broker: &Broker, options: WorkerOptions, stop: &Stop) -> Result<(), WorkerEnded> {
    let name = worker_name();
    let connect = broker.connect_patiently(&options.queue, &name);
    let mut queue = tokio::select! {
        queue = connect => queue?,
        () = stop.wait() => return Ok(()),
    };
    if options.parent_pid.is_none() {
        // Started by hand (not by `demo`, whose output this would clutter): say who we are,
        // and where, without the broker's password.
        eprintln!(
            "{name}: pulling jobs from queue {} on {}, {} at a time; Ctrl-C to stop",
            options.queue,
            broker.masked(),
            options.concurrency
        );
    }
    let mut state = WorkerState {
        retries: Retries(options.retries),
        deliveries: queue.deliveries(&options.queue),
    };
    let outage = Arc::new(Mutex::new(Outage::new(name.clone())));
    let mut backoff = Backoff::default();
    let mut generation = 0u64;
    let ended = loop {
        // Each restart is a new worker to the broker, under a new name: the jobs the failed
        // one held go back on the queue once its heartbeat has been silent long enough, as a
        // killed worker's do (reusing the name would be refused until then).
        let incarnation = match generation {
            0 => name.clone(),
            n => format!("{name}-r{n}"),
        };
        generation += 1;
        let healthy = Arc::new(AtomicBool::new(false));
        let ran = run_once(
            &queue,
            incarnation,
            &options,
            &state,
            stop,
            &healthy,
            &outage,
        );
        let error = match ran.await {
            Err(error) if !stop.is_set() => error,
            _ => break Ok(()),
        };
        // A damaged, read-only or full file, a Redis over its memory: a new worker would fail
        // the same way at once, forever. Said once (by the caller), and the process ends.
        if fault::permanent_cause(&error) {
            break Err(WorkerEnded::ForGood(error.to_string()));
        }
        // Relaxed: a flag read after the worker that set it has ended.
        if healthy.load(Ordering::Relaxed) {
            backoff = Backoff::default();
        }
        locked(&outage).begin(&error);
        match recover(broker, &options.queue, &mut backoff, stop).await {
            Ok(Some(fresh)) => queue = fresh,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
        state.deliveries = queue.deliveries(&options.queue);
    };
    // Closed, not dropped: the jobs this process committed to a SQLite file leave its log.
    queue.close().await;
    ended
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
) -> Result<Option<Queue>, WorkerEnded> {
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
            // `ForGood`, not `WorkerEnded::Broker`: the broker was there when the worker
            // started, and the message says it failed since.
            Err(e) => return Err(WorkerEnded::ForGood(e.to_string())),
        };
        match fresh.probe().await {
            Ok(()) => return Ok(Some(fresh)),
            Err(e) if fault::is_transient(&e) => {}
            Err(e) => return Err(WorkerEnded::ForGood(format!("{e:#}"))),
        }
    }
}
// ANCHOR_END: pattern
