//! An open queue on either backend: probing it and reading its jobs' final records. (Submitting
//! is the producer's step, `steps::s2_producer`.)

use apalis::prelude::{Status, TaskId};
use apalis_redis::RedisStorage;
use apalis_sqlite::SqliteStorage;
use sqlx::Row as _;

use crate::deliveries::{self, Deliveries};
use crate::steps::s1_job::{Job, Output};

/// How long a worker's question to a Redis server may take before it counts as unanswered.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// An open queue on either backend. An enum rather than a generic function: apalis' backend
/// traits carry many bounds, and two explicit arms read better than one signature of them.
/// A clone shares the connections (the SQLite pool, the Redis connection manager) and starts
/// a fresh apalis worker state, which is how a worker restarts after a broker fault.
#[derive(Debug, Clone)]
pub enum Queue {
    /// apalis-sqlite's storage.
    Sqlite(SqliteStorage<Job>),
    /// apalis-redis' storage.
    Redis(RedisStorage<Job>),
}

/// One job's final record in the broker.
#[derive(Debug, Clone)]
pub struct Finished {
    /// apalis' count of starts (more than 1: retried; redelivered too on SQLite).
    pub attempts: usize,
    /// Deliveries of the job, retries and redeliveries included (see `deliveries`).
    pub deliveries: u64,
    /// Its output, or the error it failed with for good.
    pub result: Result<Output, String>,
}

impl Queue {
    /// Asks the broker one cheap question that only a working queue answers: is the jobs
    /// table there (SQLite), does the server answer (Redis). A worker asks it after apalis
    /// gave up on an error, to tell a fault that passes (the answer is "busy", or yes) from
    /// one that does not (a file that is not a queue, a refused password).
    pub async fn probe(&mut self) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(s) => {
                sqlx::query("SELECT 1 FROM Jobs LIMIT 1")
                    .fetch_optional(s.pool())
                    .await?;
            }
            Self::Redis(s) => {
                let ping = redis::cmd("PING");
                let ping = ping.query_async::<String>(s.get_connection());
                // A server that stopped answering (paused, or a cable pulled) is a timeout,
                // which redis-rs counts as retryable like any other I/O error.
                match tokio::time::timeout(PROBE_TIMEOUT, ping).await {
                    Ok(answer) => {
                        answer?;
                    }
                    Err(_) => {
                        let timeout = std::io::Error::from(std::io::ErrorKind::TimedOut);
                        return Err(redis::RedisError::from(timeout).into());
                    }
                }
            }
        }
        Ok(())
    }

    /// Closes the queue's connections before the process ends. On SQLite the last connection
    /// to close merges the write-ahead log (`<file>-wal`) into the file and removes the log;
    /// a process that just exits leaves its commits in the log, and a copy of the file the
    /// `--broker` URL names is then an empty queue. (Merging explicitly, with
    /// `PRAGMA wal_checkpoint`, would wait on the other processes' reads and gain nothing: one
    /// still running merges the log itself.) Redis keeps nothing in this process.
    pub async fn close(self) {
        if let Self::Sqlite(s) = self {
            s.pool().close().await;
        }
    }

    /// The final records of those of `ids` that have finished (done, or failed for good),
    /// with their delivery counts.
    pub async fn finished(&mut self, ids: &[TaskId]) -> anyhow::Result<Vec<(TaskId, Finished)>> {
        match self {
            Self::Sqlite(s) => sqlite_finished(s.pool(), ids).await,
            // apalis-redis' `check_status` asks three questions per job, one round trip each;
            // waiting for 1000 jobs that is 3000 round trips per look. One pipeline asks the
            // same of the same keys in one round trip.
            Self::Redis(s) => redis_finished(s, ids).await,
        }
    }

    /// Where the handler counts this queue's deliveries (queue `name`).
    pub fn deliveries(&mut self, name: &str) -> Deliveries {
        match self {
            Self::Sqlite(_) => Deliveries::Broker,
            Self::Redis(s) => Deliveries::Redis {
                conn: s.get_connection().clone(),
                key: deliveries::redis_key(name),
            },
        }
    }
}

/// The SQLite half of [`Queue::finished`]. apalis' `check_status` asks the same question as
/// `WHERE id IN (ids) AND (status = 'Done' OR ...)`, which SQLite may answer by walking every
/// finished job in the queue and keeping those in the list: a look at 500 ids took 0.2 s with
/// 135 000 jobs done, and grows with the queue. `CROSS JOIN` fixes SQLite's join order
/// (sqlite.org/optoverview.html, "Manual Control Of Join Order Using CROSS JOIN"): the ids
/// first, each looked up by the unique index on `id`, whatever the queue holds.
async fn sqlite_finished(
    pool: &sqlx::SqlitePool,
    ids: &[TaskId],
) -> anyhow::Result<Vec<(TaskId, Finished)>> {
    let wanted: Vec<String> = ids.iter().map(ToString::to_string).collect();
    // Final: done, failed with no attempt left, or killed (our handler's final give-up).
    let rows = sqlx::query(
        "SELECT Jobs.id AS id, Jobs.last_result AS result, Jobs.attempts AS attempts
         FROM json_each(?1) AS wanted CROSS JOIN Jobs ON Jobs.id = wanted.value
         WHERE Jobs.status IN ('Done', 'Killed')
            OR (Jobs.status = 'Failed' AND Jobs.attempts >= Jobs.max_attempts)",
    )
    .bind(serde_json::to_string(&wanted)?)
    .fetch_all(pool)
    .await?;
    let mut results = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        let result: String = row.try_get("result")?;
        // Every start counts as an attempt on SQLite, redeliveries too (see `deliveries`).
        let attempts = usize::try_from(row.try_get::<i64, _>("attempts")?)?;
        let finished = Finished {
            attempts,
            deliveries: attempts as u64,
            result: serde_json::from_str(&result)?,
        };
        results.push((id.parse()?, finished));
    }
    Ok(results)
}

/// The Redis half of [`Queue::finished`]: the status, result and attempts apalis keeps for
/// each job in the hash `<queue>:meta:<task id>`, and the count in `<queue>:deliveries`.
async fn redis_finished(
    storage: &mut RedisStorage<Job>,
    ids: &[TaskId],
) -> anyhow::Result<Vec<(TaskId, Finished)>> {
    let meta = storage.get_config().job_meta_hash();
    let counts = deliveries::redis_key(storage.get_config().queue.as_ref());
    let mut pipe = redis::pipe();
    for id in ids {
        pipe.cmd("HMGET")
            .arg(format!("{meta}:{id}"))
            .arg("status")
            .arg("result")
            .arg("attempts");
        pipe.cmd("HGET").arg(&counts).arg(id.to_string());
    }
    type Fields = ((Option<String>, Option<String>, Option<usize>), Option<u64>);
    let rows: Vec<Fields> = pipe.query_async(storage.get_connection()).await?;
    let mut results = Vec::new();
    for (id, ((status, result, attempts), deliveries)) in ids.iter().zip(rows) {
        // Only `Done` and `Killed` (our handler's final give-up) are final on Redis: a plain
        // `Failed` is re-scheduled by apalis-redis for another attempt.
        let (Some(status), Some(result)) = (status, result) else {
            continue;
        };
        let status: Status = status.parse()?;
        if status == Status::Done || status == Status::Killed {
            let finished = Finished {
                attempts: attempts.unwrap_or(1),
                deliveries: deliveries.unwrap_or(0),
                result: serde_json::from_str(&result)?,
            };
            results.push((id.clone(), finished));
        }
    }
    Ok(results)
}
