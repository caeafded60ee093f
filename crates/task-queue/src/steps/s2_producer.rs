//! Step 2: the producer, Celery's `square.delay(n)`: jobs pushed onto the broker under task
//! ids the producer makes itself.
//!
//! Since step 1: the job leaves the process. The producer names every job (a ULID task id)
//! before it sends it, so that it knows where to look for the result later, and so that a
//! batch sent again after a broker fault sends the same jobs, not new ones. A batch goes in
//! one write: one transaction on SQLite, one script call on Redis.

// ANCHOR: pattern
use apalis::prelude::{TaskBuilder, TaskId, TaskSink as _, TaskSinkError};
use futures::stream;
use ulid::Ulid;

use crate::queue::Queue;
use crate::steps::s1_job::Job;

/// Why a batch was not enqueued. The backend's own error is the source, so that the fault
/// rules (`fault::is_transient`) can tell a busy broker from a broken one.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// apalis-sqlite refused the batch.
    #[error("enqueueing jobs on SQLite")]
    Sqlite(#[from] TaskSinkError<apalis_sqlite::Error>),
    /// apalis-redis refused the batch.
    #[error("enqueueing jobs on Redis")]
    Redis(#[from] TaskSinkError<apalis_redis::Error>),
}

/// Task ids for `count` new jobs (ULIDs, as both backends use).
pub fn new_ids(count: usize) -> Vec<TaskId> {
    (0..count)
        .map(|_| TaskId::from_ulid(Ulid::generate()))
        .collect()
}

impl Queue {
    /// Enqueues `jobs` under `ids` (one each, in order; see [`new_ids`]), all or none. A job
    /// may be started `max_attempts` times in all (retries included).
    pub async fn submit(
        &mut self,
        jobs: &[Job],
        ids: &[TaskId],
        max_attempts: usize,
    ) -> Result<(), SubmitError> {
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
}
// ANCHOR_END: pattern
