//! The `task-queue` command line: `demo` (the default), `worker`, `submit` and `status`.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum as _};
use task_queue::{Broker, BrokerError, DemoOptions, LESSON, broker, demo, job, worker};
use timing::{Report, fmt_count, fmt_ns, fmt_rate, usage_error};

/// Celery's job, done with apalis: worker processes pull jobs from a broker (a SQLite file by
/// default, Redis to spread workers over machines), every job runs at least once even when a
/// worker is killed with `kill -9`, failing jobs are retried then recorded with their error.
/// With no subcommand, `demo` starts --workers worker processes, submits --jobs jobs, waits
/// for all, checks every result and prints jobs/s and enqueue-to-done latency. Variants are
/// the backends: `sqlite` (a temporary file, or --broker sqlite://PATH) and `redis`
/// (--broker redis://HOST:PORT, or REDIS_URL with --variant redis).
#[derive(Debug, Parser)]
#[command(name = "task-queue")]
struct Cli {
    #[command(flatten)]
    common: timing::CommonArgs,

    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    demo: DemoArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start workers, submit jobs, wait, check every result (the default).
    Demo(DemoCommand),
    /// Run one worker until Ctrl-C or SIGTERM.
    Worker(WorkerArgs),
    /// Put jobs on the queue and return.
    Submit(SubmitArgs),
    /// Count the queue's jobs: pending, running, done, failed (with their errors).
    Status(StatusArgs),
}

/// `demo` as a subcommand takes the common flags too: `task-queue demo --json --workers 2`.
#[derive(Debug, Args)]
struct DemoCommand {
    #[command(flatten)]
    common: timing::CommonArgs,
    #[command(flatten)]
    demo: DemoArgs,
}

#[derive(Debug, Clone, Args)]
struct BrokerArgs {
    /// The queue's name: producers and workers must agree on it.
    #[arg(long, default_value = broker::DEFAULT_QUEUE)]
    queue: String,
}

/// The backends, as `--variant` names them and as the rows' `variant` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Variant {
    /// A SQLite file: one machine, no server.
    Sqlite,
    /// A Redis server: workers on many machines.
    Redis,
}

#[derive(Debug, Clone, Args)]
struct DemoArgs {
    /// Backends to run the demo on (repeatable) [default: sqlite, or the backend of --broker];
    /// `redis` without --broker uses REDIS_URL.
    #[arg(long, value_enum)]
    variant: Vec<Variant>,
    /// sqlite://PATH or redis://HOST:PORT [default: a SQLite file in a temporary directory,
    /// removed at the end].
    #[arg(long)]
    broker: Option<String>,
    /// Jobs to submit.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    jobs: u64,
    /// CPU work per job, in loop steps (0: the tutorial's `square`).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    work: u64,
    /// Jobs each worker process runs at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Retries of a failing job before it is recorded as failed.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(0..=20))]
    retries: u16,
    /// Give up when the jobs are not all done within this many seconds.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    timeout_s: u64,
    #[command(flatten)]
    queue: BrokerArgs,
    /// Fault injection: the first N jobs always fail.
    #[arg(long, default_value_t = 0, hide = true)]
    fail_jobs: u64,
    /// Fault injection: the first worker kills itself (SIGKILL) in the middle of its Nth job.
    #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(1..))]
    die_on_job: Option<u64>,
    /// Fault injection: send SIGKILL to the first worker after N results.
    #[arg(long, hide = true)]
    kill_after: Option<u64>,
}

#[derive(Debug, Args)]
struct WorkerArgs {
    /// sqlite://PATH or redis://HOST:PORT.
    #[arg(long)]
    broker: String,
    /// Jobs this worker runs at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,
    /// Retries of a failing job before it is recorded as failed.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(0..=20))]
    retries: u16,
    #[command(flatten)]
    queue: BrokerArgs,
    /// Fault injection: kill this process (SIGKILL) in the middle of its Nth job.
    #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(1..))]
    die_on_job: Option<u64>,
    /// Stop when this process is no longer our parent (set by `demo`).
    #[arg(long, hide = true)]
    parent_pid: Option<u32>,
}

#[derive(Debug, Args)]
struct SubmitArgs {
    /// Print JSON instead of a line of text.
    #[arg(long)]
    json: bool,
    /// sqlite://PATH or redis://HOST:PORT.
    #[arg(long)]
    broker: String,
    /// Jobs to submit.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    jobs: u64,
    /// CPU work per job, in loop steps (0: the tutorial's `square`).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    work: u64,
    #[command(flatten)]
    queue: BrokerArgs,
    /// Fault injection: the first N jobs always fail.
    #[arg(long, default_value_t = 0, hide = true)]
    fail_jobs: u64,
}

#[derive(Debug, Args)]
struct StatusArgs {
    /// Print JSON instead of a line of text.
    #[arg(long)]
    json: bool,
    /// sqlite://PATH or redis://HOST:PORT.
    #[arg(long)]
    broker: String,
    #[command(flatten)]
    queue: BrokerArgs,
}

fn main() -> ExitCode {
    timing::main_with(run)
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        None => run_demo(&cli.common, &cli.demo),
        Some(Command::Demo(sub)) => {
            // The flags may stand before or after `demo`.
            let common = timing::CommonArgs {
                json: cli.common.json || sub.common.json,
                workers: sub.common.workers.or(cli.common.workers),
            };
            run_demo(&common, &sub.demo)
        }
        Some(Command::Worker(args)) => run_worker(args),
        Some(Command::Submit(args)) => run_submit(&cli.common, args),
        Some(Command::Status(args)) => run_status(&cli.common, args),
    }
}

fn parse_broker(url: &str) -> anyhow::Result<Broker> {
    url.parse()
        .map_err(|e: BrokerError| usage_error(e.to_string()))
}

/// A broker error is the user's to fix (start the server, pick a path): exit status 2.
fn broker_usage(err: anyhow::Error) -> anyhow::Error {
    match err.downcast::<BrokerError>() {
        Ok(e) => usage_error(e.to_string()),
        Err(other) => other,
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn run_demo(common: &timing::CommonArgs, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // Release pairs with the Acquire load in the demo's wait loop.
    ctrlc::set_handler(move || flag.store(true, Ordering::Release))?;
    let options = DemoOptions {
        workers: common.workers(),
        concurrency: usize::from(args.concurrency),
        jobs: args.jobs,
        work: args.work,
        retries: usize::from(args.retries),
        queue: args.queue.queue.clone(),
        fail_jobs: args.fail_jobs,
        die_on_job: args.die_on_job,
        kill_after: args.kill_after,
        timeout: Duration::from_secs(args.timeout_s),
        progress: std::io::stdout().is_terminal() && !common.json,
    };
    let mut report = Report::new(LESSON);
    for variant in variants(args)? {
        // The temporary directory lives until the variant's workers have stopped.
        let (broker, _tempdir) = match variant {
            Some(broker) => (broker, None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("task-queue-")
                    .tempdir()
                    .map_err(|e| {
                        usage_error(format!("cannot create a temporary directory: {e}"))
                    })?;
                (Broker::Sqlite(dir.path().join("queue.db")), Some(dir))
            }
        };
        let outcome = demo::run(&broker, &options, &stop).map_err(broker_usage)?;
        add_verdicts(&mut report, &outcome, options.retries);
        report.push(outcome.row);
    }
    if let (Some(sqlite), Some(redis)) = (report.row("sqlite"), report.row("redis")) {
        report.verdict(format!(
            "Redis moved jobs {:.1}x as fast as SQLite; SQLite needed no server",
            redis.per_s / sqlite.per_s.max(f64::MIN_POSITIVE)
        ));
    }
    report.print(common.json);
    Ok(report.exit_code())
}

/// The brokers to run the demo on, in order; `None` is a SQLite file in a temporary directory.
/// `--broker` names one; `--variant redis` without it takes Redis from `REDIS_URL`.
fn variants(args: &DemoArgs) -> anyhow::Result<Vec<Option<Broker>>> {
    if let Some(url) = &args.broker {
        let broker = parse_broker(url)?;
        let named = |v: &Variant| {
            v.to_possible_value()
                .is_some_and(|p| p.get_name() == broker.kind())
        };
        if !args.variant.iter().all(named) {
            return Err(usage_error(format!(
                "--broker {url} is a {} broker; drop --variant or change it",
                broker.kind()
            )));
        }
        return Ok(vec![Some(broker)]);
    }
    let chosen = if args.variant.is_empty() {
        vec![Variant::Sqlite]
    } else {
        timing::selected(&args.variant)
    };
    chosen
        .into_iter()
        .map(|variant| match variant {
            Variant::Sqlite => Ok(None),
            Variant::Redis => match std::env::var("REDIS_URL") {
                Ok(url) if !url.is_empty() => parse_broker(&url).map(Some),
                _ => Err(usage_error(
                    "--variant redis needs --broker redis://HOST:PORT or REDIS_URL",
                )),
            },
        })
        .collect()
}

fn add_verdicts(report: &mut Report, outcome: &demo::DemoOutcome, retries: usize) {
    let row = &outcome.row;
    report.verdict(format!(
        "{} jobs through {} on {} worker processes: {}, enqueue-to-done p50 {}, p99 {}",
        fmt_count(row.items),
        row.variant,
        row.workers,
        fmt_rate(row.per_s),
        fmt_ns(row.p50_ns.unwrap_or(0) as f64),
        fmt_ns(row.p99_ns.unwrap_or(0) as f64),
    ));
    if outcome.restarts > 0 {
        report.verdict(format!(
            "{} worker process(es) died mid-run and were replaced; their jobs ran again (slowest job {} \
             from enqueue to done, heartbeat {:?} x {} missed): {} of {} results correct",
            outcome.restarts,
            fmt_ns(row.max_ns.unwrap_or(0) as f64),
            broker::HEARTBEAT,
            broker::MISSED_HEARTBEATS,
            fmt_count(row.result),
            fmt_count(row.expected)
        ));
    }
    if let Some((n, error)) = outcome.failures.first() {
        report.verdict(format!(
            "{} job(s) failed for good after {} retries, e.g. job {n}: {error}",
            outcome.failures.len(),
            retries
        ));
    }
}

fn run_worker(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let broker = parse_broker(&args.broker)?;
    let options = worker::WorkerOptions {
        queue: args.queue.queue,
        concurrency: usize::from(args.concurrency),
        retries: usize::from(args.retries),
        die_on_job: args.die_on_job,
        parent_pid: args.parent_pid,
    };
    runtime()?
        .block_on(worker::run(&broker, options))
        .map_err(broker_usage)?;
    Ok(ExitCode::SUCCESS)
}

fn run_submit(common: &timing::CommonArgs, args: SubmitArgs) -> anyhow::Result<ExitCode> {
    let broker = parse_broker(&args.broker)?;
    let mut jobs: Vec<job::Job> = (0..args.jobs)
        .map(|n| job::Job {
            n,
            work: args.work,
            fail: n < args.fail_jobs,
            enqueued_us: 0,
        })
        .collect();
    let sent = runtime()?
        .block_on(async {
            let mut queue = broker.connect(&args.queue.queue).await?;
            // Workers give up after their own --retries; this bounds redelivery by the broker.
            let patience = Duration::from_secs(60);
            queue
                .submit_paced(&args.queue.queue, &mut jobs, 25, patience)
                .await
        })
        .map_err(broker_usage)?;
    if common.json || args.json {
        println!(
            "{}",
            serde_json::json!({"submitted": sent, "queue": args.queue.queue, "broker": broker.to_string()})
        );
    } else {
        println!(
            "submitted {sent} jobs to queue {} on {broker}",
            args.queue.queue
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run_status(common: &timing::CommonArgs, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let broker = parse_broker(&args.broker)?;
    let status = runtime()?
        .block_on(async {
            let mut queue = broker.connect(&args.queue.queue).await?;
            queue.status(&args.queue.queue).await
        })
        .map_err(broker_usage)?;
    if common.json || args.json {
        println!("{}", serde_json::to_string(&status)?);
    } else {
        println!(
            "queue {} on {broker}: pending {}, running {}, done {}, failed {}",
            args.queue.queue, status.pending, status.running, status.done, status.failed
        );
        for (id, error) in &status.failures {
            println!("failed {id}: {error}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
