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
    pub async fn record(&self, id: &TaskId) {
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
