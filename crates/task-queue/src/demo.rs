//! `task-queue demo`: a broker, several worker processes, a batch of jobs, every result checked.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use timing::{Latencies, Row, Stopwatch};

use crate::batch::{Batch, PRODUCER};
use crate::broker::Broker;
use crate::job;
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
    let mut queue = runtime.block_on(broker.connect_patiently(&options.queue, PRODUCER))?;
    let mut workers = start_workers(broker, options)?;

    let watch = Stopwatch::start();
    let mut batch = Batch::new(options);
    let bar = progress_bar(options);
    let mut kill_after = options.kill_after;
    while !batch.all_finished() {
        batch.submit_more(&runtime, &mut queue, options, stop)?;
        keep_going(stop, &mut workers, &batch, &watch, options)?;
        let progressed = batch.collect(&runtime, &mut queue, stop)?;
        bar.set_position(batch.finished.len() as u64);
        if kill_after.is_some_and(|after| batch.finished.len() as u64 >= after) {
            workers.kill_first()?;
            kill_after = None;
        }
        if !progressed {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let wall = watch.elapsed();
    bar.finish_and_clear();
    workers.stop(Duration::from_secs(5));
    Ok(check(broker, options, &batch, wall, workers.restarts))
}

/// Starts `options.workers` worker processes on `broker`; the first gets the fault injection.
fn start_workers(broker: &Broker, options: &DemoOptions) -> anyhow::Result<Workers> {
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
    Workers::start(options.workers, args, &first_extra)
}

/// Fails when the user pressed Ctrl-C (after stopping the workers, which hand their unstarted
/// jobs back), when workers keep dying, or when the time is up; replaces a dead worker.
fn keep_going(
    stop: &AtomicBool,
    workers: &mut Workers,
    batch: &Batch,
    watch: &Stopwatch,
    options: &DemoOptions,
) -> anyhow::Result<()> {
    // Acquire pairs with the Release store in the Ctrl-C handler.
    if stop.load(Ordering::Acquire) {
        workers.stop(Duration::from_secs(5));
        bail!(
            "interrupted: workers stopped after {} of {} jobs were seen done; the other {} sent \
             jobs stay on the queue, done or pending for the next worker (a temporary queue \
             goes with its file), {} were never sent",
            batch.finished.len(),
            options.jobs,
            batch.submitted - batch.finished.len(),
            batch.jobs.len() - batch.submitted
        );
    }
    workers.check()?;
    if watch.elapsed() > options.timeout {
        bail!(
            "timed out after {:?}: {} of {} jobs finished",
            options.timeout,
            batch.finished.len(),
            options.jobs
        );
    }
    Ok(())
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

/// What the finished jobs add up to.
struct Tally {
    /// Enqueue-to-done time of every job that succeeded.
    latencies: Latencies,
    /// Jobs whose result equals the closed form.
    correct: u64,
    /// Jobs that failed for good, by number, with their errors.
    failures: Vec<(u64, String)>,
    /// Jobs started more than once.
    rerun: u64,
}

impl Tally {
    /// Checks every finished job's result against [`job::expected`].
    fn of(batch: &Batch, work: u64) -> Self {
        let mut tally = Self {
            latencies: Latencies::new(),
            correct: 0,
            failures: Vec::new(),
            rerun: 0,
        };
        for (n, record) in &batch.finished {
            if record.attempts > 1 {
                tally.rerun += 1;
            }
            match &record.result {
                Ok(output) => {
                    if output.value == job::expected(*n, work) {
                        tally.correct += 1;
                    }
                    // Job `n` is `jobs[n]`: numbered from 0 in submission order.
                    let enqueued = batch.jobs[*n as usize].enqueued_us;
                    let waited_us = output.done_us.saturating_sub(enqueued);
                    tally.latencies.record_ns(waited_us * 1000);
                }
                Err(e) => tally.failures.push((*n, e.clone())),
            }
        }
        tally.failures.sort();
        tally
    }
}

/// Checks every job's result against the closed form and builds the row.
fn check(
    broker: &Broker,
    options: &DemoOptions,
    batch: &Batch,
    wall: Duration,
    restarts: usize,
) -> DemoOutcome {
    let Tally {
        latencies,
        correct,
        failures,
        rerun,
    } = Tally::of(batch, options.work);
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
