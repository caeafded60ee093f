//! An open queue: submitting jobs and reading their final records, on either backend.

use apalis::prelude::{Status, TaskBuilder, TaskId, TaskResult, TaskSink, WaitForCompletion};
use apalis_redis::RedisStorage;
use apalis_sqlite::SqliteStorage;
use futures::stream;
use ulid::Ulid;

use crate::job::{Job, Output};

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
    /// How many times it was started (more than 1: retried or redelivered).
    pub attempts: usize,
    /// Its output, or the error it failed with for good.
    pub result: Result<Output, String>,
}

/// Task ids for `count` new jobs (ULIDs, as both backends use). They are made by the producer,
/// not the broker, so that it knows where to look for results, and so that a submission
/// retried after a broker fault sends the same jobs again, not new ones.
pub fn new_ids(count: usize) -> Vec<TaskId> {
    (0..count)
        .map(|_| TaskId::from_ulid(Ulid::generate()))
        .collect()
}

impl Queue {
    /// Enqueues `jobs` under `ids` (one each, in order; see [`new_ids`]), all or none.
    pub async fn submit(
        &mut self,
        jobs: &[Job],
        ids: &[TaskId],
        max_attempts: usize,
    ) -> anyhow::Result<()> {
        let tasks = jobs.iter().zip(ids).map(|(job, id)| {
            TaskBuilder::new(*job)
                .task_id(id.clone())
                .max_attempts(max_attempts)
                .build()
        });
        // One batch: apalis buffers what it is sent and writes it in one transaction (SQLite)
        // or one script call (Redis), instead of a round trip per job. All or none, so a
        // batch that failed can be sent again whole.
        let mut tasks = stream::iter(tasks);
        match self {
            Self::Sqlite(s) => s.push_all(&mut tasks).await?,
            Self::Redis(s) => s.push_all(&mut tasks).await?,
        }
        Ok(())
    }

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

    /// The final records of those of `ids` that have finished (done, or failed for good).
    pub async fn finished(&mut self, ids: &[TaskId]) -> anyhow::Result<Vec<(TaskId, Finished)>> {
        let results: Vec<TaskResult<Output>> = match self {
            // apalis' own query: one SELECT for the whole slice.
            Self::Sqlite(s) => s.check_status(ids.iter().cloned()).await?,
            // apalis-redis' `check_status` asks three questions per job, one round trip each;
            // waiting for 1000 jobs that is 3000 round trips per look. One pipeline asks the
            // same of the same keys in one round trip.
            Self::Redis(s) => redis_finished(s, ids).await?,
        };
        Ok(results
            .into_iter()
            .map(|r| {
                let finished = Finished {
                    attempts: r.attempt,
                    result: r.result,
                };
                (r.task_id, finished)
            })
            .collect())
    }
}

/// The Redis half of [`Queue::finished`]: the status, result and attempts apalis keeps for
/// each job in the hash `<queue>:meta:<task id>`.
async fn redis_finished(
    storage: &mut RedisStorage<Job>,
    ids: &[TaskId],
) -> anyhow::Result<Vec<TaskResult<Output>>> {
    let meta = storage.get_config().job_meta_hash();
    let mut pipe = redis::pipe();
    for id in ids {
        pipe.cmd("HMGET")
            .arg(format!("{meta}:{id}"))
            .arg("status")
            .arg("result")
            .arg("attempts");
    }
    type Fields = (Option<String>, Option<String>, Option<usize>);
    let rows: Vec<Fields> = pipe.query_async(storage.get_connection()).await?;
    let mut results = Vec::new();
    for (id, (status, result, attempts)) in ids.iter().zip(rows) {
        // Only `Done` and `Killed` (our handler's final give-up) are final on Redis: a plain
        // `Failed` is re-scheduled by apalis-redis for another attempt.
        let (Some(status), Some(result)) = (status, result) else {
            continue;
        };
        let status: Status = status.parse()?;
        if status == Status::Done || status == Status::Killed {
            results.push(TaskResult {
                task_id: id.clone(),
                attempt: attempts.unwrap_or(1),
                status,
                result: serde_json::from_str(&result)?,
            });
        }
    }
    Ok(results)
}
