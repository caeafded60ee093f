//! `task-queue status`: how many jobs wait, run, are done and failed for good, read straight
//! from the broker's own records.
//!
//! apalis 1.0 has a `Metrics` trait for this, but its Redis script counts the done set with a
//! sorted-set command while the workers fill a plain set, so it fails on a queue in use. The
//! few queries below read the same records apalis writes (its `Jobs` table; its Redis keys,
//! named by `apalis_redis::Config`) and are easy to check by hand with `sqlite3` or
//! `redis-cli`.

use serde::Serialize;
use sqlx::Row as _;

use crate::queue::Queue;

/// The state of a queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Waiting for a worker (including jobs waiting for a retry or scheduled later).
    pub pending: u64,
    /// Held by a worker (fetched or running); a dead worker's jobs stay here until its
    /// heartbeat runs out, then go back to pending.
    pub running: u64,
    /// Finished with a result.
    pub done: u64,
    /// Failed for good, after their retries.
    pub failed: u64,
    /// The failed jobs' task ids and errors (at most [`MAX_LISTED`]).
    pub failures: Vec<(String, String)>,
}

/// How many failed jobs `status` lists with their error.
pub const MAX_LISTED: usize = 20;

impl Queue {
    /// Counts the jobs of queue `name` by state.
    pub async fn status(&mut self, name: &str) -> anyhow::Result<Status> {
        match self {
            Self::Sqlite(s) => sqlite_status(s.pool(), name).await,
            Self::Redis(s) => {
                let config = s.get_config().clone();
                redis_status(s.get_connection(), &config).await
            }
        }
    }
}

async fn sqlite_status(pool: &sqlx::SqlitePool, queue: &str) -> anyhow::Result<Status> {
    // A failed job with attempts left is waiting for its retry; without, it failed for good.
    // `Killed` is what apalis records for a job that gave up (our handler's AbortError).
    let rows = sqlx::query(
        "SELECT CASE
             WHEN status IN ('Pending') THEN 'pending'
             WHEN status = 'Failed' AND attempts < max_attempts THEN 'pending'
             WHEN status IN ('Queued', 'Running') THEN 'running'
             WHEN status = 'Done' THEN 'done'
             ELSE 'failed' END AS state, COUNT(*) AS n
         FROM Jobs WHERE job_type = ?1 GROUP BY state",
    )
    .bind(queue)
    .fetch_all(pool)
    .await?;
    let mut status = Status::default();
    for row in rows {
        let n = u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0);
        match row.try_get::<String, _>("state")?.as_str() {
            "pending" => status.pending = n,
            "running" => status.running = n,
            "done" => status.done = n,
            _ => status.failed = n,
        }
    }
    let failures = sqlx::query(
        "SELECT id, COALESCE(last_result, '') AS error FROM Jobs
         WHERE job_type = ?1 AND (status = 'Killed' OR (status = 'Failed' AND attempts >= max_attempts))
         ORDER BY id LIMIT ?2",
    )
    .bind(queue)
    .bind(MAX_LISTED as i64)
    .fetch_all(pool)
    .await?;
    for row in failures {
        status.failures.push((
            row.try_get("id")?,
            error_text(&row.try_get::<String, _>("error")?),
        ));
    }
    Ok(status)
}

async fn redis_status(
    conn: &mut redis::aio::ConnectionManager,
    config: &apalis_redis::Config,
) -> anyhow::Result<Status> {
    let count = |cmd: &str, key: String| {
        let mut c = redis::cmd(cmd);
        c.arg(key);
        c
    };
    let active: u64 = count("LLEN", config.active_jobs_list())
        .query_async(conn)
        .await?;
    let scheduled: u64 = count("ZCARD", config.scheduled_jobs_set())
        .query_async(conn)
        .await?;
    let done: u64 = count("SCARD", config.done_jobs_set())
        .query_async(conn)
        .await?;
    let dead: Vec<String> = count("SMEMBERS", config.dead_jobs_set())
        .query_async(conn)
        .await?;
    // Each worker holds its jobs in a set of its own, `<queue>:inflight:<worker>`; the workers
    // are listed in `<queue>:workers` until they stop or are found dead.
    let workers: Vec<String> = redis::cmd("ZRANGE")
        .arg(config.workers_set())
        .arg(0)
        .arg(-1)
        .query_async(conn)
        .await?;
    let mut running = 0u64;
    for worker in workers {
        let key = format!("{}:{worker}", config.inflight_jobs_set());
        running += count("SCARD", key).query_async::<u64>(conn).await?;
    }
    let failures = redis_failures(conn, config, &dead).await?;
    Ok(Status {
        pending: active + scheduled,
        running,
        done,
        failed: dead.len() as u64,
        failures,
    })
}

/// The first [`MAX_LISTED`] of the `dead` jobs with their errors, from each job's meta hash.
async fn redis_failures(
    conn: &mut redis::aio::ConnectionManager,
    config: &apalis_redis::Config,
    dead: &[String],
) -> anyhow::Result<Vec<(String, String)>> {
    let mut failures = Vec::new();
    for id in dead.iter().take(MAX_LISTED) {
        let key = format!("{}:{id}", config.job_meta_hash());
        let result: Option<String> = redis::cmd("HGET")
            .arg(key)
            .arg("result")
            .query_async(conn)
            .await?;
        failures.push((id.clone(), error_text(&result.unwrap_or_default())));
    }
    Ok(failures)
}

/// apalis stores a result as JSON `{"Err": "..."}`; show only the message.
fn error_text(stored: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(stored) {
        Ok(serde_json::Value::Object(map)) => match map.get("Err") {
            Some(serde_json::Value::String(e)) => e.clone(),
            _ => stored.to_string(),
        },
        _ => stored.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_errors_are_unwrapped() {
        assert_eq!(error_text(r#"{"Err":"boom"}"#), "boom");
        assert_eq!(error_text("plain"), "plain");
    }
}
