//! The `task-queue` command line: parse the flags (see `cli.rs`), call the library, print.
//! `demo` (the default) runs a whole batch; `worker`, `submit` and `status` are what a user
//! runs by hand on several machines.

mod cli;

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser as _;
use task_queue::fault::{self, patiently};
use task_queue::steps::s1_job as job;
use task_queue::steps::s3_worker::WorkerOptions;
use task_queue::steps::s4_supervise;
use task_queue::steps::s5_processes::WorkersFailed;
use task_queue::stop::{Interrupted, Stop};
use task_queue::{Broker, BrokerError, DemoOptions, LESSON, measure, verdict};
use timing::{Report, usage_error};

use crate::cli::{
    Cli, Command, DemoArgs, StatusArgs, SubmitArgs, WorkerArgs, check_size, parse_broker,
};

/// The attempts `submit` allows a job in the broker. The workers give up after their own
/// `--retries`, which `submit` does not know: it allows the most any worker takes, and a few
/// redeliveries more (on SQLite a job a dead worker held counts an attempt).
const MAX_ATTEMPTS: usize = job::MAX_RETRIES.attempts() + 4;

/// How long `submit` waits for a full queue to drain, while workers are alive, before saying
/// that none takes jobs (with no worker alive it says so within seconds).
const PATIENCE: Duration = Duration::from_secs(60);

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
        Some(Command::Submit(args)) => run_submit(cli.common.json, args),
        Some(Command::Status(args)) => run_status(cli.common.json, args),
    }
}

/// The errors that are the user's to fix become usage errors (exit status 2), by the rule
/// `broker`'s header states: a broker that is not there or not usable at start
/// ([`BrokerError`]), a fault that waiting does not cure met later (a damaged, read-only or full
/// file, Redis out of memory: [`fault::is_permanent`]), and a demo whose worker exited with 2
/// for either. Anything else stays a failure of the program (1).
fn user_fault(err: anyhow::Error) -> anyhow::Error {
    let worker_said_2 = err.chain().any(|cause| {
        matches!(cause.downcast_ref(), Some(WorkersFailed::KeptDying(status)) if status.code() == Some(2))
    });
    match err.downcast::<BrokerError>() {
        Ok(e) => usage_error(e.to_string()),
        Err(other) if worker_said_2 || fault::is_permanent(&other) => {
            usage_error(fault::describe(&other))
        }
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
    let options = args.options(common, std::io::stdout().is_terminal() && !common.json);
    let mut report = Report::new(LESSON);
    report.legend(
        "p50/p99/max: job latency, from the producer enqueueing a job to a worker finishing it \
         (wall clocks; failed jobs not included)",
    );
    report.legend("check: jobs whose result equals the closed form, of all jobs submitted");
    report.legend(
        "redeliveries (in the note, and a field of --json): deliveries of a job beyond its \
         first that no retry explains, counted in the broker: jobs a dead worker held, run again",
    );
    let brokers = args.brokers()?;
    for broker in &brokers {
        let kind = broker.as_ref().map_or("sqlite", Broker::kind);
        check_size(options.jobs, options.work, kind, options.workers)?;
    }
    for broker in brokers {
        let outcome = match demo_on(broker, &options, &stop) {
            Err(e) if e.chain().any(|cause| cause.is::<Interrupted>()) => {
                // Ctrl-C: the workers are stopped; the shell's convention for it is 130.
                eprintln!("{e:#}");
                return Ok(ExitCode::from(130));
            }
            outcome => outcome?,
        };
        for line in verdict::lines(&outcome, options.retries) {
            report.verdict(line);
        }
        report.push(outcome.row);
    }
    if let (Some(sqlite), Some(redis)) = (report.row("sqlite"), report.row("redis")) {
        report.verdict(verdict::compare(sqlite, redis));
    }
    report.print(common.json);
    Ok(report.exit_code())
}

/// Runs the demo on `broker`, or on a SQLite file in a temporary directory that lives until
/// the demo's workers have stopped and is removed whatever happened (and, should the demo be
/// killed, by the next demo: see `scratch`).
fn demo_on(
    broker: Option<Broker>,
    options: &DemoOptions,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<measure::DemoOutcome> {
    let (broker, _tempdir) = match broker {
        Some(broker) => (broker, None),
        None => {
            let dir = task_queue::scratch::create()
                .map_err(|e| usage_error(format!("cannot create a temporary directory: {e}")))?;
            (Broker::Sqlite(dir.path().join("queue.db")), Some(dir))
        }
    };
    measure::run(&broker, options, stop).map_err(user_fault)
}

fn run_worker(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let broker = parse_broker(&args.target.broker)?;
    let options = WorkerOptions {
        queue: args.target.queue.queue,
        concurrency: usize::try_from(args.worker.concurrency).unwrap_or(usize::MAX),
        retries: usize::try_from(args.worker.retries).unwrap_or(usize::MAX),
        parent_pid: args.parent_pid,
    };
    if let Some(n) = args.die_on_job {
        task_queue::deliveries::die_on_delivery(n);
    }
    let (ended, interrupted) = runtime()?.block_on(async {
        let stop = Stop::on_signals(args.parent_pid).context("cannot watch for signals")?;
        let ended = s4_supervise::run(&broker, options, &stop).await;
        anyhow::Ok((ended, stop.interrupted()))
    })?;
    match ended {
        // Ctrl-C: stopped cleanly, and said with the shell's status for it; SIGTERM is 0.
        Ok(()) if interrupted => Ok(ExitCode::from(130)),
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => Err(usage_error(e.to_string())),
    }
}

fn run_submit(json: bool, args: SubmitArgs) -> anyhow::Result<ExitCode> {
    let broker = parse_broker(&args.target.broker)?;
    // The workers run elsewhere, or later: the estimate counts on every core here.
    check_size(args.jobs.jobs, args.jobs.work, broker.kind(), usize::MAX)?;
    let queue_name = &args.target.queue.queue;
    let mut jobs = job::numbered(args.jobs.jobs, args.jobs.work, args.jobs.fail_jobs);
    let sent = runtime()?
        .block_on(async {
            let mut queue = broker
                .connect_patiently(queue_name, "task-queue submit")
                .await?;
            let sent = queue
                .submit_paced(queue_name, &mut jobs, MAX_ATTEMPTS, PATIENCE)
                .await;
            // Closed on every path, so that the jobs sent are in the file, not only its log.
            queue.close().await;
            sent
        })
        .map_err(user_fault)?;
    if json || args.json {
        let line =
            serde_json::json!({"submitted": sent, "queue": queue_name, "broker": broker.masked()});
        println!("{line}");
    } else {
        println!(
            "submitted {sent} jobs to queue {queue_name} on {}",
            broker.masked()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run_status(json: bool, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let broker = parse_broker(&args.target.broker)?;
    let queue_name = &args.target.queue.queue;
    let status = runtime()?
        .block_on(async {
            let who = "task-queue status";
            let mut queue = broker.connect_patiently(queue_name, who).await?;
            let status = patiently(who, None, async || queue.status(queue_name).await).await;
            queue.close().await;
            status
        })
        .map_err(user_fault)?;
    if json || args.json {
        println!("{}", serde_json::to_string(&status)?);
    } else {
        println!(
            "queue {queue_name} on {}: pending {}, running {}, done {}, failed {}",
            broker.masked(),
            status.pending,
            status.running,
            status.done,
            status.failed
        );
        for (id, error) in &status.failures {
            println!("failed {id}: {error}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
