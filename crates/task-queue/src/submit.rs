//! `task-queue submit`: jobs sent in chunks, held back while the queue is long (backpressure,
//! see [`BACKLOG`]), and a clear stop when nobody takes them or the broker is full.

use std::time::{Duration, Instant};

use anyhow::anyhow;
use apalis::prelude::TaskId;
use timing::usage_error;

use crate::broker::{BACKLOG, CHUNK, HEARTBEAT, MISSED_HEARTBEATS};
use crate::fault::{self, patiently};
use crate::queue::Queue;
use crate::steps::s1_job::{self as job, Job};
use crate::steps::s2_producer::new_ids;

/// How `task-queue submit` names itself when it waits for a busy broker.
const SUBMIT: &str = "task-queue submit";

/// How long `submit` waits, with the backlog full, for a worker to be alive before it says
/// none is running. Longer than a worker takes to beat again after a broker restart (its
/// backoff and a heartbeat), so that a restart is not mistaken for no worker at all.
const ALONE: Duration = Duration::from_secs(10);

/// Jobs wait in a full backlog and no worker takes them.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Untaken(String);

impl Queue {
    /// How many jobs of queue `name` wait for a worker: what backpressure needs, asked once
    /// per chunk. On SQLite a count over apalis' index of pending jobs, not `Queue::status`,
    /// which reads every job in the queue (half a second at a million).
    pub async fn pending(&mut self, name: &str) -> anyhow::Result<u64> {
        match self {
            Self::Sqlite(s) => {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM Jobs
                     WHERE job_type = ?1 AND status = 'Pending' AND lock_by IS NULL",
                )
                .bind(name)
                .fetch_one(s.pool())
                .await?;
                Ok(u64::try_from(n)?)
            }
            Self::Redis(_) => Ok(self.status(name).await?.pending),
        }
    }

    /// How many workers of queue `name` beat their heartbeat within the time after which
    /// apalis takes a worker for dead: the workers apalis itself counts as alive.
    pub async fn live_workers(&mut self, name: &str) -> anyhow::Result<u64> {
        let dead_after = (HEARTBEAT * MISSED_HEARTBEATS as u32).as_secs();
        match self {
            Self::Sqlite(s) => {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM Workers
                     WHERE worker_type = ?1 AND strftime('%s', 'now') - last_seen <= ?2",
                )
                .bind(name)
                .bind(i64::try_from(dead_after)?)
                .fetch_one(s.pool())
                .await?;
                Ok(u64::try_from(n)?)
            }
            Self::Redis(s) => {
                // `<queue>:workers` scores each worker with the time of its last beat.
                let since = (job::now_us() / 1_000_000).saturating_sub(dead_after);
                let workers = s.get_config().workers_set();
                Ok(redis::cmd("ZCOUNT")
                    .arg(workers)
                    .arg(since)
                    .arg("+inf")
                    .query_async(s.get_connection())
                    .await?)
            }
        }
    }

    /// Submits `jobs` in chunks of [`CHUNK`], waiting while [`BACKLOG`] or more jobs of queue
    /// `name` are pending; each chunk's jobs are stamped with the time they are sent. A busy
    /// broker is waited out ([`patiently`]). Fails (a usage error: the user's to fix) when the
    /// backlog is full and no worker is alive, or none takes a job within `patience`, or the
    /// broker refuses more for good (a full disk, Redis' `maxmemory`); the error says how many
    /// jobs were queued before, since submitting the same count again would queue those twice.
    pub async fn submit_paced(
        &mut self,
        name: &str,
        jobs: &mut [Job],
        max_attempts: usize,
        patience: Duration,
    ) -> anyhow::Result<usize> {
        let total = jobs.len();
        let mut sent = 0;
        for chunk in jobs.chunks_mut(CHUNK) {
            let ids = new_ids(chunk.len());
            let why = match self.room(name, patience).await {
                Ok(()) => self.send(chunk, &ids, max_attempts).await,
                Err(e) => Err(e),
            };
            if let Err(e) = why {
                // A failed SQLite chunk is a rolled-back transaction; a Redis script that ran
                // out of memory halfway keeps what it wrote: count what arrived, by id.
                let arrived = self.arrived(&ids).await.ok();
                let said = refused(&e, sent, arrived, total);
                // The user's to fix (broker's header): a full or broken broker, no taker.
                let theirs = fault::is_permanent(&e) || e.is::<Untaken>();
                return Err(if theirs {
                    usage_error(said)
                } else {
                    anyhow!(said)
                });
            }
            sent += chunk.len();
        }
        Ok(sent)
    }

    /// How many of `ids` the broker holds: jobs with data under their id.
    async fn arrived(&mut self, ids: &[TaskId]) -> anyhow::Result<usize> {
        let wanted: Vec<String> = ids.iter().map(ToString::to_string).collect();
        match self {
            Self::Sqlite(s) => {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM json_each(?1) AS wanted
                     CROSS JOIN Jobs ON Jobs.id = wanted.value",
                )
                .bind(serde_json::to_string(&wanted)?)
                .fetch_one(s.pool())
                .await?;
                Ok(usize::try_from(n)?)
            }
            Self::Redis(s) => {
                let mut pipe = redis::pipe();
                for id in &wanted {
                    pipe.cmd("HEXISTS")
                        .arg(s.get_config().job_data_hash())
                        .arg(id);
                }
                let held: Vec<bool> = pipe.query_async(s.get_connection()).await?;
                Ok(held.into_iter().filter(|&h| h).count())
            }
        }
    }

    /// Waits until fewer than [`BACKLOG`] jobs of queue `name` are pending. Fails when no
    /// worker has been alive for [`ALONE`] on end, and after `patience` when workers are alive
    /// but take nothing: waiting on would be silence, not progress.
    async fn room(&mut self, name: &str, patience: Duration) -> anyhow::Result<()> {
        let waiting_since = Instant::now();
        let mut alone_since: Option<Instant> = None;
        loop {
            let pending = patiently(SUBMIT, None, async || self.pending(name).await).await?;
            if pending < BACKLOG as u64 {
                return Ok(());
            }
            let live = patiently(SUBMIT, None, async || self.live_workers(name).await).await?;
            alone_since = if live == 0 {
                alone_since.or(Some(Instant::now()))
            } else {
                None
            };
            if alone_since.is_some_and(|since| since.elapsed() > ALONE) {
                return Err(Untaken(format!(
                    "{pending} jobs are waiting in queue {name} and no worker is running: start \
                     one (task-queue worker --broker ...)"
                ))
                .into());
            }
            if waiting_since.elapsed() > patience {
                return Err(Untaken(format!(
                    "{pending} jobs are waiting in queue {name} and none was taken for {patience:?}"
                ))
                .into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Sends one chunk under `ids`, stamped with the time it is sent; again under the same ids
    /// after a transient fault (see step 2).
    async fn send(
        &mut self,
        chunk: &mut [Job],
        ids: &[TaskId],
        max_attempts: usize,
    ) -> anyhow::Result<()> {
        let now = job::now_us();
        chunk.iter_mut().for_each(|job| job.enqueued_us = now);
        let chunk = &*chunk;
        let send = async || Ok(self.submit(chunk, ids, max_attempts).await?);
        patiently(SUBMIT, None, send).await
    }
}

/// What `submit` says when the broker refused a chunk with `error`: how many jobs are queued
/// (`sent` before the chunk, `arrived` of it, when that could be counted) and what to submit
/// next, since the same `--jobs` again would queue those twice.
fn refused(error: &anyhow::Error, sent: usize, arrived: Option<usize>, total: usize) -> String {
    let cause = fault::describe(error);
    match arrived {
        Some(arrived) => {
            let queued = sent + arrived;
            format!(
                "{cause}; {queued} of {total} jobs reached the queue before it: to queue the \
                 rest, submit --jobs {} once that is fixed (--jobs {total} again would queue \
                 the first {queued} twice)",
                total - queued
            )
        }
        None => format!(
            "{cause}; {sent} of {total} jobs reached the queue before it, and perhaps part of \
             the next {CHUNK}: count them with task-queue status before you submit the rest"
        ),
    }
}
