//! `task-queue demo`: a broker, several worker processes, a batch of jobs, every result checked.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use apalis::prelude::TaskId;
use indicatif::{ProgressBar, ProgressStyle};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use timing::{Latencies, Row, Stopwatch};

use tokio::runtime::Runtime;

use crate::broker::{BACKLOG, Broker, CHUNK};
use crate::job::{self, Job};
use crate::queue::{Finished, Queue};
use crate::supervise::Workers;

/// The demo's sizes and switches.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Worker processes to start.
    pub workers: usize,
    /// Jobs one worker runs at once.
    pub concurrency: usize,
    /// Jobs to submit.
    pub jobs: u64,
    /// 0 for the tutorial's square, else loop steps per job.
    pub work: u64,
    /// Retries of a failing job.
    pub retries: usize,
    /// The queue name.
    pub queue: String,
    /// Fault injection: the first this many jobs always fail.
    pub fail_jobs: u64,
    /// Fault injection: the first worker kills itself (SIGKILL) in the middle of this job.
    pub die_on_job: Option<u64>,
    /// Fault injection: the demo sends SIGKILL to its first worker after this many results.
    pub kill_after: Option<u64>,
    /// Give up when the jobs are not all finished within this time.
    pub timeout: Duration,
    /// Show a progress bar.
    pub progress: bool,
}

/// What the demo saw, beside the row.
#[derive(Debug, Clone)]
pub struct DemoOutcome {
    /// The measured, checked row (`variant` = the backend).
    pub row: Row,
    /// Jobs that failed for good: job number and error.
    pub failures: Vec<(u64, String)>,
    /// Jobs that were started more than once (retried, or redelivered after a worker died).
    pub rerun: u64,
    /// Worker processes that died and were replaced.
    pub restarts: usize,
}

/// Runs the whole demo on `broker`: starts the workers, submits, waits for every job, checks
/// every result against [`job::expected`], stops the workers.
pub fn run(
    broker: &Broker,
    options: &DemoOptions,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<DemoOutcome> {
    // Two runtime threads are plenty: the demo only waits on the broker.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // Connect first: a broker that is not there is reported before any worker starts.
    let mut queue = runtime.block_on(broker.connect(&options.queue))?;

    let args = vec![
        "worker".to_string(),
        "--broker".to_string(),
        broker.to_string(),
        "--queue".to_string(),
        options.queue.clone(),
        "--concurrency".to_string(),
        options.concurrency.to_string(),
        "--retries".to_string(),
        options.retries.to_string(),
        "--parent-pid".to_string(),
        std::process::id().to_string(),
    ];
    let first_extra: Vec<String> = options
        .die_on_job
        .map(|n| vec!["--die-on-job".to_string(), n.to_string()])
        .unwrap_or_default();
    let mut workers = Workers::start(options.workers, args, &first_extra)?;

    let watch = Stopwatch::start();
    let mut state = Batch::new(options);
    let bar = progress_bar(options);
    let mut killed = false;
    while !state.all_finished() {
        state.submit_more(&runtime, &mut queue, options)?;
        // Acquire pairs with the Release store in the Ctrl-C handler.
        if stop.load(Ordering::Acquire) {
            workers.stop(Duration::from_secs(5));
            bail!(
                "interrupted: workers stopped, {} of {} jobs finished; the rest stay queued",
                state.finished.len(),
                options.jobs
            );
        }
        workers.check()?;
        if watch.elapsed() > options.timeout {
            bail!(
                "timed out after {:?}: {} of {} jobs finished",
                options.timeout,
                state.finished.len(),
                options.jobs
            );
        }
        let progressed = state.collect(&runtime, &mut queue)?;
        bar.set_position(state.finished.len() as u64);
        if let (Some(after), false) = (options.kill_after, killed)
            && state.finished.len() as u64 >= after
            && let Some(pid) = workers.first_pid()
        {
            // A real `kill -9`: the worker gets no chance to hand its jobs back.
            let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            killed = true;
        }
        if !progressed {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let wall = watch.elapsed();
    bar.finish_and_clear();
    workers.stop(Duration::from_secs(5));
    Ok(check(broker, options, &state, wall, workers.restarts))
}

/// The demo's jobs and where each one is: not yet sent, waiting (sent, no final record yet),
/// or finished.
struct Batch {
    /// Every job, in order: job `n` is `jobs[n]`.
    jobs: Vec<Job>,
    /// How many of `jobs` were sent.
    submitted: usize,
    /// Sent jobs without a final record, by task id (as text: the map's key must be `Hash`).
    waiting: HashMap<String, (TaskId, u64)>,
    /// Job number and final record of every finished job.
    finished: Vec<(u64, Finished)>,
}

impl Batch {
    fn new(options: &DemoOptions) -> Self {
        let jobs: Vec<Job> = (0..options.jobs)
            .map(|n| Job {
                n,
                work: options.work,
                fail: n < options.fail_jobs,
                enqueued_us: 0,
            })
            .collect();
        Self {
            submitted: 0,
            waiting: HashMap::with_capacity(jobs.len()),
            finished: Vec::with_capacity(jobs.len()),
            jobs,
        }
    }

    fn all_finished(&self) -> bool {
        self.submitted == self.jobs.len() && self.waiting.is_empty()
    }

    /// Sends the next chunk while fewer than BACKLOG jobs wait (see `broker::BACKLOG`).
    fn submit_more(
        &mut self,
        runtime: &Runtime,
        queue: &mut Queue,
        options: &DemoOptions,
    ) -> anyhow::Result<()> {
        if self.submitted == self.jobs.len() || self.waiting.len() >= BACKLOG {
            return Ok(());
        }
        let end = (self.submitted + CHUNK).min(self.jobs.len());
        let chunk = &mut self.jobs[self.submitted..end];
        let now = job::now_us();
        chunk.iter_mut().for_each(|job| job.enqueued_us = now);
        let ids = runtime.block_on(queue.submit(chunk, options.retries + 1))?;
        for (id, job) in ids.iter().zip(chunk.iter()) {
            self.waiting.insert(id.to_string(), (id.clone(), job.n));
        }
        self.submitted = end;
        Ok(())
    }

    /// Moves the waiting jobs that finished to `finished`; says whether there were any.
    fn collect(&mut self, runtime: &Runtime, queue: &mut Queue) -> anyhow::Result<bool> {
        // Ask about a slice of the waiting jobs at a time: one query, bounded in size.
        let slice: Vec<TaskId> = self
            .waiting
            .values()
            .take(500)
            .map(|(id, _)| id.clone())
            .collect();
        let results = runtime.block_on(queue.finished(&slice))?;
        let progressed = !results.is_empty();
        for (id, record) in results {
            if let Some((_, n)) = self.waiting.remove(&id.to_string()) {
                self.finished.push((n, record));
            }
        }
        Ok(progressed)
    }
}

fn progress_bar(options: &DemoOptions) -> ProgressBar {
    if !options.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(options.jobs);
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} jobs {per_sec}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Checks every job's result against the closed form and builds the row.
fn check(
    broker: &Broker,
    options: &DemoOptions,
    batch: &Batch,
    wall: Duration,
    restarts: usize,
) -> DemoOutcome {
    let mut latencies = Latencies::new();
    let mut correct = 0u64;
    let mut failures = Vec::new();
    let mut rerun = 0u64;
    for (n, record) in &batch.finished {
        if record.attempts > 1 {
            rerun += 1;
        }
        match &record.result {
            Ok(output) => {
                if output.value == job::expected(*n, options.work) {
                    correct += 1;
                }
                // Job `n` is `jobs[n]`: numbered from 0 in submission order.
                let enqueued = batch.jobs[*n as usize].enqueued_us;
                latencies.record_ns(output.done_us.saturating_sub(enqueued) * 1000);
            }
            Err(e) => failures.push((*n, e.clone())),
        }
    }
    failures.sort();
    let row = Row::new(crate::LESSON, broker.kind())
        .workers(options.workers)
        .items(options.jobs)
        .check(options.jobs, correct)
        .wall(wall)
        .latencies(&latencies)
        .extra("failed", failures.len())
        .extra("rerun", rerun)
        .extra("worker_restarts", restarts)
        .extra("concurrency", options.concurrency)
        .note(format!(
            "{} worker processes x {} jobs each at once",
            options.workers, options.concurrency
        ));
    DemoOutcome {
        row,
        failures,
        rerun,
        restarts,
    }
}
