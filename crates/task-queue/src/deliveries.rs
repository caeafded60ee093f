//! How many times each job was handed to a worker, counted by the handler itself, in the broker,
//! under the job's task id.
//!
//! apalis-sqlite counts them itself: its `attempts` column goes up on every retry and every
//! time a dead worker's jobs (fetched or running) go back on the queue, so there the count is
//! apalis' own and costs nothing more (a write per job on the one SQLite file would slow
//! every worker). apalis-redis re-queues a dead worker's jobs as they were, without counting,
//! so there the handler counts every delivery before it starts the work, in a hash
//! `<queue>:deliveries`. A count above one that no retry explains is a job that was lost with
//! its worker and run again.
//!
//! Fault injection sits here too, out of the handler: `task-queue worker --die-on-job N`
//! arms [`die_on_delivery`], and the Nth delivery this process counts kills it mid-job.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use apalis::prelude::TaskId;
use redis::aio::ConnectionManager;

use crate::fault::{Backoff, transient_cause};

/// Where one worker counts its deliveries.
#[derive(Debug, Clone)]
pub enum Deliveries {
    /// The broker counts them itself (apalis-sqlite's `attempts`): nothing to do.
    Broker,
    /// The Redis hash `key` (task id -> count).
    Redis {
        /// The worker's connection (it reconnects by itself).
        conn: ConnectionManager,
        /// `<queue>:deliveries`.
        key: String,
    },
}

/// The Redis hash of counts for queue `queue`.
pub fn redis_key(queue: &str) -> String {
    format!("{queue}:deliveries")
}

impl Deliveries {
    /// Counts one delivery of `id`. A broker fault is waited out with backoff (the apalis
    /// worker around this handler meets the same fault and is restarted, dropping this wait);
    /// any other error is said once on stderr and the count is skipped.
    /// When armed by [`die_on_delivery`], the process then dies on its Nth delivery.
    pub async fn record(&self, id: &TaskId) {
        self.count(id).await;
        die_if_due().await;
    }

    async fn count(&self, id: &TaskId) {
        let mut backoff = Backoff::default();
        loop {
            let result = match self {
                Self::Broker => Ok(()),
                Self::Redis { conn, key } => redis::cmd("HINCRBY")
                    .arg(key)
                    .arg(id.to_string())
                    .arg(1)
                    .query_async::<i64>(&mut conn.clone())
                    .await
                    .map(drop)
                    .map_err(|e| (transient_cause(&e), e.to_string())),
            };
            match result {
                Ok(()) => return,
                Err((true, _)) => tokio::time::sleep(backoff.next_wait()).await,
                Err((false, e)) => {
                    eprintln!("could not count a delivery of job {id}: {e}");
                    return;
                }
            }
        }
    }
}

/// The delivery (1-based, counted in this process) on which the process kills itself.
static DIE_ON: OnceLock<u64> = OnceLock::new();

/// Deliveries recorded in this process, to find the one to die on.
static RECORDED: AtomicU64 = AtomicU64::new(0);

/// Fault injection, armed once by the worker's entry point: the process kills itself with
/// SIGKILL in the middle of its `n`th delivery (its job is then locked to this worker).
pub fn die_on_delivery(n: u64) {
    let _ = DIE_ON.set(n);
}

async fn die_if_due() {
    let Some(&n) = DIE_ON.get() else { return };
    // Relaxed: a plain counter; nothing else is published through it.
    if RECORDED.fetch_add(1, Ordering::Relaxed) + 1 == n {
        // Be mid-job for a moment (the job is locked to this worker), then die like `kill -9`.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}
