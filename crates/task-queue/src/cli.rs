//! The `task-queue` binary's flags (`demo`, the default, `worker`, `submit`, `status`) and how
//! they become the library's [`DemoOptions`] and brokers; the library takes plain values.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum as _};
use task_queue::steps::s1_job as job;
use task_queue::{Broker, BrokerError, DemoOptions, broker};
use timing::usage_error;

/// Celery's job, done with apalis: worker processes pull jobs from a broker (a SQLite file by
/// default, Redis to spread workers over machines), every job runs at least once even when a
/// worker is killed with `kill -9`, failing jobs are retried then recorded with their error.
/// With no subcommand, `demo` starts --workers worker processes, submits --jobs jobs, waits
/// for all, checks every result and prints jobs/s and enqueue-to-done latency. Variants are
/// the backends: `sqlite` (a temporary file, or --broker sqlite://PATH) and `redis`
/// (--broker redis://HOST:PORT, or REDIS_URL with --variant redis).
#[derive(Debug, Parser)]
#[command(name = "task-queue", allow_negative_numbers = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) common: timing::CommonArgs,
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    #[command(flatten)]
    pub(crate) demo: DemoArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Start workers, submit jobs, wait, check every result (the default).
    #[command(allow_negative_numbers = true)]
    Demo(DemoCommand),
    /// Run one worker until Ctrl-C or SIGTERM.
    #[command(allow_negative_numbers = true)]
    Worker(WorkerArgs),
    /// Put jobs on the queue and return.
    #[command(allow_negative_numbers = true)]
    Submit(SubmitArgs),
    /// Count the queue's jobs: pending, running, done, failed (with their errors).
    Status(StatusArgs),
}

/// `demo` as a subcommand, with the common flags too: `task-queue demo --json --workers 2`.
#[derive(Debug, Args)]
pub(crate) struct DemoCommand {
    #[command(flatten)]
    pub(crate) common: timing::CommonArgs,
    #[command(flatten)]
    pub(crate) demo: DemoArgs,
}

/// The queue every command names: producers and workers must agree on it.
#[derive(Debug, Clone, Args)]
pub(crate) struct QueueArgs {
    /// The queue's name: producers and workers must agree on it.
    #[arg(long, default_value = broker::DEFAULT_QUEUE)]
    pub(crate) queue: String,
}

/// Where `worker`, `submit` and `status` find the jobs.
#[derive(Debug, Clone, Args)]
pub(crate) struct Target {
    /// sqlite://PATH or redis://HOST:PORT.
    #[arg(long)]
    pub(crate) broker: String,
    #[command(flatten)]
    pub(crate) queue: QueueArgs,
}

/// The jobs `demo` and `submit` put on the queue.
#[derive(Debug, Clone, Args)]
pub(crate) struct JobArgs {
    /// Jobs to submit.
    #[arg(long, default_value_t = 1000, value_parser = timing::between(1, 1_000_000))]
    pub(crate) jobs: u64,
    /// CPU work per job, in loop steps (0: the tutorial's `square`).
    #[arg(long, default_value_t = 0, value_parser = timing::between(0, 1_000_000))]
    pub(crate) work: u64,
    /// Fault injection: the first N jobs always fail.
    #[arg(long, default_value_t = 0, hide = true, value_parser = timing::between(0, 1_000_000))]
    pub(crate) fail_jobs: u64,
}

/// How a worker process runs, whether `demo` starts it or a user does.
#[derive(Debug, Clone, Args)]
pub(crate) struct WorkerFlags {
    /// Jobs each worker process runs at once.
    #[arg(long, default_value_t = 4, value_parser = timing::between(1, 256))]
    pub(crate) concurrency: u64,
    /// Retries of a failing job before it is recorded as failed.
    #[arg(long, default_value_t = 2, value_parser = timing::between(0, job::MAX_RETRIES.0 as u64))]
    pub(crate) retries: u64,
}

/// The backends, as `--variant` names them and as the rows' `variant` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Variant {
    /// A SQLite file: one machine, no server.
    Sqlite,
    /// A Redis server: workers on many machines.
    Redis,
}

/// The demo's own flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct DemoArgs {
    /// Backends to run the demo on (repeatable) [default: sqlite, or the backend of --broker];
    /// `redis` without --broker uses REDIS_URL.
    #[arg(long, value_enum)]
    pub(crate) variant: Vec<Variant>,
    /// sqlite://PATH or redis://HOST:PORT [default: a SQLite file in a temporary directory,
    /// removed at the end].
    #[arg(long)]
    pub(crate) broker: Option<String>,
    #[command(flatten)]
    pub(crate) queue: QueueArgs,
    #[command(flatten)]
    pub(crate) jobs: JobArgs,
    #[command(flatten)]
    pub(crate) worker: WorkerFlags,
    /// Give up when the jobs are not all done within this many seconds.
    #[arg(long, default_value_t = 120, value_parser = timing::between(1, 86_400))]
    pub(crate) timeout_s: u64,
    /// Fault injection: the first worker kills itself (SIGKILL) in the middle of its Nth job.
    #[arg(long, hide = true, value_parser = timing::between(1, u64::MAX))]
    pub(crate) die_on_job: Option<u64>,
    /// Fault injection: send SIGKILL to the first worker after N results.
    #[arg(long, hide = true, value_parser = timing::between(0, u64::MAX))]
    pub(crate) kill_after: Option<u64>,
}

/// `task-queue worker`.
#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    #[command(flatten)]
    pub(crate) worker: WorkerFlags,
    /// Fault injection: kill this process (SIGKILL) in the middle of its Nth job.
    #[arg(long, hide = true, value_parser = timing::between(1, u64::MAX))]
    pub(crate) die_on_job: Option<u64>,
    /// Stop when this process is no longer our parent (set by `demo`).
    #[arg(long, hide = true)]
    pub(crate) parent_pid: Option<u32>,
}

/// `task-queue submit`.
#[derive(Debug, Args)]
pub(crate) struct SubmitArgs {
    /// Print JSON instead of a line of text.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) target: Target,
    #[command(flatten)]
    pub(crate) jobs: JobArgs,
}

/// `task-queue status`.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Print JSON instead of a line of text.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) target: Target,
}

impl DemoArgs {
    /// The library's options for these flags; `progress` when a person watches.
    pub(crate) fn options(&self, common: &timing::CommonArgs, progress: bool) -> DemoOptions {
        DemoOptions {
            workers: common.workers(),
            concurrency: usize::try_from(self.worker.concurrency).unwrap_or(usize::MAX),
            jobs: self.jobs.jobs,
            work: self.jobs.work,
            retries: usize::try_from(self.worker.retries).unwrap_or(usize::MAX),
            queue: self.queue.queue.clone(),
            fail_jobs: self.jobs.fail_jobs,
            die_on_job: self.die_on_job,
            kill_after: self.kill_after,
            timeout: Duration::from_secs(self.timeout_s),
            progress,
        }
    }

    /// The brokers to run the demo on, in order (`None`: a SQLite file in a temporary
    /// directory). `--broker` names one; `--variant redis` without it takes `REDIS_URL`.
    pub(crate) fn brokers(&self) -> anyhow::Result<Vec<Option<Broker>>> {
        if let Some(url) = &self.broker {
            let broker = parse_broker(url)?;
            let named = |v: &Variant| {
                v.to_possible_value()
                    .is_some_and(|p| p.get_name() == broker.kind())
            };
            if !self.variant.iter().all(named) {
                return Err(usage_error(format!(
                    "--broker {url} is a {} broker; drop --variant or change it",
                    broker.kind()
                )));
            }
            return Ok(vec![Some(broker)]);
        }
        let chosen = if self.variant.is_empty() {
            vec![Variant::Sqlite]
        } else {
            timing::selected(&self.variant)
        };
        chosen.into_iter().map(default_broker).collect()
    }
}

/// A variant's broker when no `--broker` names one: a temporary SQLite file, or `REDIS_URL`.
fn default_broker(variant: Variant) -> anyhow::Result<Option<Broker>> {
    match variant {
        Variant::Sqlite => Ok(None),
        Variant::Redis => match std::env::var("REDIS_URL") {
            Ok(url) if !url.is_empty() => parse_broker(&url).map(Some),
            _ => Err(usage_error(
                "--variant redis needs --broker redis://HOST:PORT or REDIS_URL",
            )),
        },
    }
}

/// A round rate for SQLite's jobs a second, a little under what two workers did with the other
/// core busy (one file, one writer at a time: it does not grow with workers; docs/results.md
/// has the measured figure). Redis has no such bound here.
const SQLITE_JOBS_PER_S: f64 = 2000.0;

/// Jobs timed to estimate how long the jobs' own work takes.
const PILOT_JOBS: u64 = 16;

/// Refuses (exit 2) a run of `jobs` jobs of `work` steps each on a broker of `kind`, run by
/// `workers` processes, that would take past ten minutes; announces one past a few seconds
/// ([`timing::check_duration`]). Two bounds, and the slower sets the pace: SQLite's one writer
/// (about [`SQLITE_JOBS_PER_S`] whatever the workers), and the jobs' own work, timed here on a
/// few jobs and shared by the workers, at most one a core.
pub(crate) fn check_size(jobs: u64, work: u64, kind: &str, workers: usize) -> anyhow::Result<()> {
    let broker = if kind == "sqlite" {
        Duration::from_secs_f64(jobs as f64 / SQLITE_JOBS_PER_S)
    } else {
        Duration::ZERO
    };
    let watch = timing::Stopwatch::start();
    for n in 0..PILOT_JOBS {
        std::hint::black_box(job::compute(n, work));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let work_time = timing::extrapolate(PILOT_JOBS, watch.elapsed(), jobs)
        .div_f64(workers.clamp(1, cores) as f64);
    let instead = if kind == "sqlite" {
        "pass fewer --jobs or less --work, or use Redis (--broker redis://HOST:PORT)"
    } else {
        "pass fewer --jobs or less --work"
    };
    let what = format!("{} jobs on {kind}", timing::fmt_count(jobs));
    timing::check_duration(&what, broker.max(work_time), instead)
}

/// A `--broker` URL, or a usage error (exit 2) naming it.
pub(crate) fn parse_broker(url: &str) -> anyhow::Result<Broker> {
    url.parse()
        .map_err(|e: BrokerError| usage_error(e.to_string()))
}
