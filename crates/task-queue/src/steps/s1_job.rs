//! Step 1: the job, Celery's `@app.task def square(x)`: a plain struct that travels as JSON,
//! and the async function apalis calls for every delivery of it.
//!
//! The job is the tutorial's `square` (or, with `--work`, a sum sized to keep a core busy), so
//! that every result can be checked against a number the demo computes on its own. It is
//! idempotent, keyed by its task id: apalis stores the result under that id, so a job that
//! runs twice (delivery is at least once) overwrites its own result instead of adding one.

// ANCHOR: job
use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use apalis::prelude::{AbortError, Attempt, BoxDynError, Data, RetryPolicy, TaskId};
use serde::{Deserialize, Serialize};

use crate::deliveries::Deliveries;

/// One unit of work, as it travels through the broker (JSON, via apalis' codec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// The job's number in its batch: the input of the computation.
    pub n: u64,
    /// 0 for the tutorial's `n * n`; otherwise the number of loop steps of [`compute`].
    pub work: u64,
    /// When set, the job always fails: it shows retries and a job that fails for good.
    pub fail: bool,
    /// When the producer enqueued it, in microseconds since the Unix epoch: wall-clock time, not
    /// `Instant`, as producer and worker are different processes (machines: clocks must agree).
    pub enqueued_us: u64,
}

/// What a worker returns for a job, stored by apalis under the job's task id (see the header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    /// The computed value.
    pub value: u64,
    /// When the worker finished, in microseconds since the Unix epoch.
    pub done_us: u64,
    /// The process id of the worker that produced this result.
    pub worker_pid: u32,
}

/// The computation: `n * n` when `work` is 0 (the tutorial's `square`), else the sum of `n * k`
/// for `k` in `0..work`; `black_box` keeps the optimiser from using [`expected`]'s closed form.
pub fn compute(n: u64, work: u64) -> u64 {
    if work == 0 {
        return n * n;
    }
    let mut acc = 0u64;
    for k in 0..work {
        acc = acc.wrapping_add(black_box(n) * k);
    }
    acc
}

/// The result [`compute`] must give, from a closed form: `n * n`, or `n * work * (work - 1) / 2`.
pub fn expected(n: u64, work: u64) -> u64 {
    if work == 0 {
        n * n
    } else {
        n.wrapping_mul(work * (work - 1) / 2)
    }
}

/// Jobs `0..count`, each of `work` loop steps; the first `fail_jobs` of them always fail. The
/// demo and `task-queue submit` build their jobs alike, so results are checked the same way.
pub fn numbered(count: u64, work: u64, fail_jobs: u64) -> Vec<Job> {
    (0..count)
        .map(|n| Job {
            n,
            work,
            fail: n < fail_jobs,
            enqueued_us: 0,
        })
        .collect()
}

/// Microseconds since the Unix epoch.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

// ANCHOR_END: job
// ANCHOR: handler
/// The retry limit, in one place: the retries in the worker (`policy`), the attempt whose failure
/// is final (`is_last`) and the broker's bound (`attempts`, given by the producer) follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retries(pub usize);

/// The most retries a worker takes (`--retries`).
pub const MAX_RETRIES: Retries = Retries(20);

impl Retries {
    /// apalis' policy: a failed job runs again, in the same worker, this many times.
    pub fn policy(self) -> RetryPolicy {
        RetryPolicy::retries(self.0)
    }
    /// The broker's bound on a job's attempts (`max_attempts`): the first and the retries.
    pub const fn attempts(self) -> usize {
        self.0 + 1
    }
    /// Whether `attempt` is the last one, whose failure is final.
    pub fn is_last(self, attempt: &Attempt) -> bool {
        attempt.current() > self.0
    }
}

/// What every delivery on one worker process shares, handed to the handler by apalis' `Data`.
#[derive(Debug, Clone)]
pub struct WorkerState {
    /// How often a failing job is retried.
    pub retries: Retries,
    /// Where each delivery is counted, by task id, in the broker.
    pub deliveries: Deliveries,
}

/// The handler apalis calls for every delivery of a job.
///
/// CPU work runs on `spawn_blocking`, not inline: a long computation on the runtime's threads
/// would stall the worker's heartbeat, and the broker would then think the worker dead and
/// hand its jobs to someone else. A failure is a plain error while retries remain (apalis'
/// `RetryPolicy` runs the job again in this worker), and an `AbortError` on the last attempt,
/// which both backends record as final (`Killed` in apalis' words) instead of re-queueing it.
/// The delivery is counted first (see [`Deliveries`]): a worker killed mid-job has then
/// already counted it, and the rerun counts a second.
pub async fn handle(
    job: Job,
    id: TaskId,
    attempt: Attempt,
    state: Data<WorkerState>,
) -> Result<Output, BoxDynError> {
    state.deliveries.record(&id).await;
    if job.fail {
        let message = format!(
            "job {} failed on purpose (attempt {})",
            job.n,
            attempt.current()
        );
        if state.retries.is_last(&attempt) {
            return Err(AbortError::new(message).into());
        }
        return Err(message.into());
    }
    let value = tokio::task::spawn_blocking(move || compute(job.n, job.work)).await?;
    Ok(Output {
        value,
        done_us: now_us(),
        worker_pid: std::process::id(),
    })
}
// ANCHOR_END: handler

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compute_matches_the_closed_form() {
        for n in [0, 1, 7, 999] {
            for work in [0, 1, 2, 1000] {
                assert_eq!(compute(n, work), expected(n, work), "n={n} work={work}");
            }
        }
    }

    #[test]
    fn jobs_round_trip_through_json() {
        let job = Job {
            n: 3,
            work: 0,
            fail: false,
            enqueued_us: 42,
        };
        let text = serde_json::to_string(&job).unwrap();
        assert_eq!(serde_json::from_str::<Job>(&text).unwrap(), job);
    }
}
