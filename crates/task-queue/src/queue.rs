//! An open queue: submitting jobs and reading their final records, on either backend.

use apalis::prelude::{Status, TaskBuilder, TaskId, TaskResult, TaskSink, WaitForCompletion};
use apalis_redis::RedisStorage;
use apalis_sqlite::SqliteStorage;
use futures::stream;
use ulid::Ulid;

use crate::job::{Job, Output};

/// An open queue on either backend. An enum rather than a generic function: apalis' backend
/// traits carry many bounds, and two explicit arms read better than one signature of them.
#[derive(Debug)]
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

impl Queue {
    /// Enqueues `jobs` and returns their task ids, in order. The ids are made here (ULIDs, as
    /// both backends use), not by the broker, so the producer knows where to look for results.
    pub async fn submit(
        &mut self,
        jobs: &[Job],
        max_attempts: usize,
    ) -> anyhow::Result<Vec<TaskId>> {
        let ids: Vec<TaskId> = jobs
            .iter()
            .map(|_| TaskId::from_ulid(Ulid::generate()))
            .collect();
        let tasks = jobs.iter().zip(&ids).map(|(job, id)| {
            TaskBuilder::new(*job)
                .task_id(id.clone())
                .max_attempts(max_attempts)
                .build()
        });
        // One batch: apalis buffers what it is sent and writes it in one transaction (SQLite)
        // or one script call (Redis), instead of a round trip per job.
        let mut tasks = stream::iter(tasks);
        match self {
            Self::Sqlite(s) => s.push_all(&mut tasks).await?,
            Self::Redis(s) => s.push_all(&mut tasks).await?,
        }
        Ok(ids)
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
