//! The demo's bookkeeping: which of its jobs are not yet sent, which wait for a final record in
//! the broker, and which are finished.
//!
//! The producer keeps this itself, by task id, rather than asking the broker for counts: a job
//! that runs twice (at-least-once delivery) still has one record under its id, so a count of
//! finished ids can neither miss a job nor count one twice.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use apalis::prelude::TaskId;
use tokio::runtime::Runtime;

use super::DemoOptions;
use crate::broker::{BACKLOG, CHUNK};
use crate::fault::patiently;
use crate::queue::{Finished, Queue};
use crate::steps::s1_job::{self as job, Job, Retries};
use crate::steps::s2_producer::new_ids;

/// How the producer names itself when it waits for a busy broker.
pub const PRODUCER: &str = "task-queue demo (producer)";

/// How many waiting jobs one look at the broker asks about, oldest first: one query, bounded
/// in size. Jobs finish roughly in the order they were sent, so the oldest are the likeliest
/// to be done.
const LOOK: usize = 500;

/// The demo's jobs and where each one is: not yet sent, waiting (sent, no final record yet),
/// or finished.
#[derive(Debug)]
pub struct Batch {
    /// Every job, in order: job `n` is `jobs[n]`.
    pub jobs: Vec<Job>,
    /// How many of `jobs` were sent.
    pub submitted: usize,
    /// Sent jobs without a final record, by job number: the oldest first.
    waiting: BTreeMap<u64, TaskId>,
    /// The job number of each waiting task id (as text: the map's key must be `Hash`).
    numbers: HashMap<String, u64>,
    /// Job number and final record of every finished job.
    pub finished: Vec<(u64, Finished)>,
}

impl Batch {
    /// The demo's jobs, none sent yet.
    pub fn new(options: &DemoOptions) -> Self {
        let jobs = job::numbered(options.jobs, options.work, options.fail_jobs);
        Self {
            submitted: 0,
            waiting: BTreeMap::new(),
            numbers: HashMap::with_capacity(BACKLOG + CHUNK),
            finished: Vec::with_capacity(jobs.len()),
            jobs,
        }
    }

    /// Every job sent and finished.
    pub fn all_finished(&self) -> bool {
        self.submitted == self.jobs.len() && self.waiting.is_empty()
    }

    /// Sends the next chunk while fewer than BACKLOG jobs wait (see `broker::BACKLOG`); waits
    /// out a busy broker unless `stop` is set.
    pub fn submit_more(
        &mut self,
        runtime: &Runtime,
        queue: &mut Queue,
        options: &DemoOptions,
        stop: &AtomicBool,
    ) -> anyhow::Result<()> {
        if self.submitted == self.jobs.len() || self.waiting.len() >= BACKLOG {
            return Ok(());
        }
        let end = (self.submitted + CHUNK).min(self.jobs.len());
        let chunk = &mut self.jobs[self.submitted..end];
        let now = job::now_us();
        chunk.iter_mut().for_each(|job| job.enqueued_us = now);
        let ids = new_ids(chunk.len());
        let chunk = &*chunk;
        let attempts = Retries(options.retries).attempts();
        let send = async || Ok(queue.submit(chunk, &ids, attempts).await?);
        runtime.block_on(patiently(PRODUCER, Some(stop), send))?;
        for (id, job) in ids.iter().zip(chunk.iter()) {
            self.waiting.insert(job.n, id.clone());
            self.numbers.insert(id.to_string(), job.n);
        }
        self.submitted = end;
        Ok(())
    }

    /// Moves the waiting jobs that finished to `finished`, and returns how long the look that
    /// answered took. Waits out a busy broker unless `stop` is set; the time spent waiting is
    /// not in the answer: it says what a look costs the broker, and the demo paces its looks
    /// by it (a pause stretched by an outage would idle the demo long after the broker is back).
    pub fn collect(
        &mut self,
        runtime: &Runtime,
        queue: &mut Queue,
        stop: &AtomicBool,
    ) -> anyhow::Result<Duration> {
        let slice: Vec<TaskId> = self.waiting.values().take(LOOK).cloned().collect();
        let mut took = Duration::ZERO;
        let look = async || {
            let started = Instant::now();
            let answer = queue.finished(&slice).await;
            took = started.elapsed();
            answer
        };
        let results = runtime.block_on(patiently(PRODUCER, Some(stop), look))?;
        for (id, record) in results {
            if let Some(n) = self.numbers.remove(&id.to_string()) {
                self.waiting.remove(&n);
                self.finished.push((n, record));
            }
        }
        Ok(took)
    }
}
