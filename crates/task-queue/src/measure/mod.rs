//! `task-queue demo`: a broker, several worker processes (step 5), a batch of jobs sent by the
//! producer (step 2), every result checked and timed.
//!
//! The producer loop is here rather than in a step because it is mostly measuring: it stamps
//! each chunk with its send time, follows every job by id to its final record, and kills a
//! worker on request (fault injection) while it waits.

mod batch;
mod kill;
mod tally;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use indicatif::{ProgressBar, ProgressStyle};
use timing::{Row, Stopwatch};

use crate::broker::Broker;
use crate::steps::s5_processes::Workers;
use crate::stop::Interrupted;
use batch::{Batch, PRODUCER};

/// The shortest pause between two looks for finished jobs.
const LOOK_PAUSE: Duration = Duration::from_millis(10);

/// The pause after a look, as a multiple of what the look took: the demo spends at most a
/// fifth of its time looking, however slow the broker's answer.
const LOOK_PAUSE_PER_LOOK: u32 = 4;

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
    /// Jobs that apalis started more than once (retried; on SQLite, redelivered too).
    pub rerun: u64,
    /// Deliveries beyond one per job that no retry explains: jobs a dead worker held, run
    /// again. Counted by the handler in the broker (see `deliveries`).
    pub redeliveries: u64,
    /// Worker processes that died and were replaced.
    pub restarts: usize,
}

/// Runs the whole demo on `broker`: starts the workers, submits, waits for every job, checks
/// every result against the closed form, stops the workers.
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
    let ran = start_workers(broker, options).and_then(|mut workers| {
        let produced = produce(&runtime, &mut queue, &mut workers, options, stop);
        // Stopped before the queue closes, on every path: the last process to close a SQLite
        // file merges its log into it (see `Queue::close`).
        workers.stop(Duration::from_secs(5));
        Ok((produced?, workers.restarts))
    });
    runtime.block_on(queue.close());
    let ((wall, batch), restarts) = ran?;
    Ok(tally::check(broker, options, &batch, wall, restarts))
}

/// The producer side of step 2, instrumented: sends while the backlog allows, looks for
/// finished jobs by id, until every job is finished; returns the wall time and the jobs.
fn produce(
    runtime: &tokio::runtime::Runtime,
    queue: &mut crate::Queue,
    workers: &mut Workers,
    options: &DemoOptions,
    stop: &AtomicBool,
) -> anyhow::Result<(Duration, Batch)> {
    let watch = Stopwatch::start();
    let mut batch = Batch::new(options);
    let bar = progress_bar(options);
    let mut kill_after = options.kill_after;
    while !batch.all_finished() {
        batch.submit_more(runtime, queue, options, stop)?;
        keep_going(stop, workers, &batch, &watch, options)?;
        let looked = batch.collect(runtime, queue, stop)?;
        bar.set_position(batch.finished.len() as u64);
        if kill_after.is_some_and(|after| batch.finished.len() as u64 >= after) {
            workers.kill_first()?;
            kill_after = None;
        }
        // Look again soon, not at once: each look is a query the broker answers on the same
        // cores as the workers. A short pause keeps the end of a short run in sight (the wall
        // time ends when the demo sees the last job finished); latencies are stamped by the
        // workers, not by this look.
        std::thread::sleep((looked * LOOK_PAUSE_PER_LOOK).max(LOOK_PAUSE));
    }
    bar.finish_and_clear();
    Ok((watch.elapsed(), batch))
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
    Ok(Workers::start(options.workers, args, &first_extra)?)
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
        return Err(Interrupted(format!(
            "interrupted: workers stopped after {} of {} jobs were seen done; the other {} sent \
             jobs stay on the queue, done or pending for the next worker (a temporary queue \
             goes with its file), {} were never sent",
            batch.finished.len(),
            options.jobs,
            batch.submitted - batch.finished.len(),
            batch.jobs.len() - batch.submitted
        ))
        .into());
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
    // A whole rate ("1 340 jobs/s"), not indicatif's `{per_sec}` with four decimals, and how
    // long is left at that rate.
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} jobs  {rate}  {eta} left")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = write!(out, "{} jobs/s", timing::fmt_count(state.per_sec() as u64));
            },
        );
    bar.set_style(style);
    bar
}
