//! The lessons about many tasks and many waits: executors, async requests, threads per request,
//! a task queue.

use super::{args, line};
use crate::sweep::Lang::{Python as Py, Rust as Rs};
use crate::sweep::{BROKER, Limit, Spec, Y};

/// executor-completed over tasks: what each task costs, pool start-up included.
pub const EXECUTOR_COMPLETED: Spec = Spec {
    lesson: "executor-completed",
    chart: "executor-completed",
    script: "executor_completed.py",
    x_name: "tasks",
    full: &[1, 10, 100, 1_000, 10_000],
    quick: &[10, 100],
    rust_args: |t| {
        vec![args(
            &["threads-as-completed", "processes-as-completed"],
            &[("tasks", t)],
        )]
    },
    python_args: |t| {
        vec![args(
            &["threads-as-completed", "processes-as-completed"],
            &[("tasks", t)],
        )]
    },
    series: &[
        line(
            "Rust threads-as-completed",
            Rs,
            "threads-as-completed",
            Y::PerItemNs,
        ),
        line(
            "Rust processes-as-completed",
            Rs,
            "processes-as-completed",
            Y::PerItemNs,
        ),
        line(
            "Python thread-pool-executor",
            Py,
            "thread-pool-executor",
            Y::PerItemNs,
        ),
        line(
            "Python process-pool-executor",
            Py,
            "process-pool-executor",
            Y::PerItemNs,
        ),
    ],
    limit: Limit::None,
    limit_for: &[],
    seconds: |t| 0.5 + 0.000_15 * t as f64,
    needs_redis: false,
};

/// threads-basic over requests: a thread each against a pool of eight, against one delay, and
/// the memory each holds (one variant an invocation, so each peak is the variant's own).
pub const THREADS_BASIC: Spec = Spec {
    lesson: "threads-basic",
    chart: "threads-basic",
    script: "threads_basic.py",
    x_name: "requests",
    full: &[10, 100, 1_000],
    quick: &[10, 100],
    // Eight pool threads on both sides (Rust's default is the cores, Python's eight).
    rust_args: |r| {
        let sizes = [("requests", r), ("delay-ms", 10), ("workers", 8)];
        vec![
            args(&["io-thread-per-request"], &sizes),
            args(&["io-pool"], &sizes),
        ]
    },
    python_args: |r| {
        let sizes = [("requests", r), ("delay-ms", 10), ("workers", 8)];
        vec![
            args(&["io-threads"], &sizes),
            args(&["io-executor"], &sizes),
        ]
    },
    series: &[
        line(
            "Rust io-thread-per-request",
            Rs,
            "io-thread-per-request",
            Y::WallS,
        ),
        line("Rust io-pool (8)", Rs, "io-pool", Y::WallS),
        line("Python io-threads", Py, "io-threads", Y::WallS),
        line("Python io-executor (8)", Py, "io-executor", Y::WallS),
        line(
            "Rust io-thread-per-request peak",
            Rs,
            "io-thread-per-request",
            Y::PeakRssMib,
        ),
        line("Rust io-pool (8) peak", Rs, "io-pool", Y::PeakRssMib),
        line("Python io-threads peak", Py, "io-threads", Y::PeakRssMib),
        line(
            "Python io-executor (8) peak",
            Py,
            "io-executor",
            Y::PeakRssMib,
        ),
    ],
    limit: Limit::OneDelay(0.010),
    limit_for: &[],
    seconds: |r| 0.6 + 0.0055 * r as f64,
    needs_redis: false,
};

/// task-queue over workers: jobs a second on SQLite and on Redis, and Celery's on the same
/// Redis, under the broker's own ceiling; what each job cost Redis's one thread, and how busy
/// that thread was ([`crate::sweep::load`]).
pub const TASK_QUEUE: Spec = Spec {
    lesson: "task-queue",
    chart: "task-queue",
    script: "task_queue.py",
    x_name: "workers",
    full: &[1, 2, 4],
    quick: &[1, 2],
    // Rust moves jobs fast enough to need more of them to be timed; the rate is what is read.
    rust_args: |w| {
        vec![
            args(&["sqlite"], &[("workers", w), ("jobs", 4_000)]),
            [
                args(&["redis"], &[("workers", w), ("jobs", 4_000)]),
                vec!["--broker".into(), BROKER.into()],
            ]
            .concat(),
        ]
    },
    python_args: |w| {
        vec![
            [
                args(&[], &[("workers", w), ("jobs", 1_000)]),
                vec!["--broker".into(), BROKER.into()],
            ]
            .concat(),
        ]
    },
    series: &[
        line("Rust sqlite", Rs, "sqlite", Y::PerS),
        line("Rust redis", Rs, "redis", Y::PerS),
        line("Python celery-prefork", Py, "celery-prefork", Y::PerS),
        line(
            "Rust redis: Redis at 100% busy",
            Rs,
            "redis",
            Y::BrokerCeilingPerS,
        ),
        line(
            "Celery: Redis at 100% busy",
            Py,
            "celery-prefork",
            Y::BrokerCeilingPerS,
        ),
        line("Rust redis: Redis CPU", Rs, "redis", Y::BrokerCpuUs),
        line("Celery: Redis CPU", Py, "celery-prefork", Y::BrokerCpuUs),
        line("Rust redis: Redis busy", Rs, "redis", Y::BrokerBusyPct),
        line("Celery: Redis busy", Py, "celery-prefork", Y::BrokerBusyPct),
    ],
    limit: Limit::Broker,
    // SQLite's queue never touches the broker, and the ceilings are lines of their own.
    limit_for: &["Rust redis", "Python celery-prefork"],
    seconds: |w| 8.0 + 1.0 * w as f64,
    needs_redis: true,
};
