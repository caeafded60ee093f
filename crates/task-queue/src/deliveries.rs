//! How many times each job was handed to a worker, counted by the handler itself, in the broker,
//! under the job's task id.
//!
//! apalis' own `attempts` counts retries of a failing job, but not a redelivery after a worker
//! died on one of the two backends (apalis-redis re-queues a dead worker's jobs as they were).
//! So the handler counts every delivery before it starts the work: a table `TaskQueueDeliveries` in the SQLite file,
//! a hash `<queue>:deliveries` on Redis. A count above one that no retry explains is a job that
//! was lost with its worker and run again.

use apalis::prelude::TaskId;
use redis::aio::ConnectionManager;

use crate::fault::{Backoff, transient_cause};

/// Where one worker counts its deliveries.
#[derive(Debug, Clone)]
pub enum Deliveries {
    /// The queue's SQLite file.
    Sqlite(sqlx::SqlitePool),
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
                Self::Sqlite(pool) => sqlx::query(
                    "INSERT INTO TaskQueueDeliveries (id, n) VALUES (?1, 1) \
                     ON CONFLICT(id) DO UPDATE SET n = n + 1",
                )
                .bind(id.to_string())
                .execute(pool)
                .await
                .map(drop)
                .map_err(|e| (transient_cause(&e), e.to_string())),
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

/// Creates the SQLite table of counts if it is not there.
pub async fn create_table(pool: &sqlx::SqlitePool) -> Result<(), sqlx::Error> {
    let sql = "CREATE TABLE IF NOT EXISTS TaskQueueDeliveries \
               (id TEXT PRIMARY KEY, n INTEGER NOT NULL)";
    sqlx::query(sql).execute(pool).await.map(drop)
}

/// The counts of `ids` in the SQLite file, in their order (0 where none was counted).
pub async fn sqlite_counts(
    pool: &sqlx::SqlitePool,
    ids: &[TaskId],
) -> Result<Vec<u64>, sqlx::Error> {
    use sqlx::Row as _;
    let list: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let json = serde_json::to_string(&list).unwrap_or_default();
    let rows = sqlx::query(
        "SELECT id, n FROM TaskQueueDeliveries WHERE id IN (SELECT value FROM json_each(?1))",
    )
    .bind(json)
    .fetch_all(pool)
    .await?;
    let mut counts = std::collections::HashMap::new();
    for row in rows {
        let n: i64 = row.try_get("n")?;
        counts.insert(
            row.try_get::<String, _>("id")?,
            u64::try_from(n).unwrap_or(0),
        );
    }
    Ok(list
        .iter()
        .map(|id| counts.get(id).copied().unwrap_or(0))
        .collect())
}
