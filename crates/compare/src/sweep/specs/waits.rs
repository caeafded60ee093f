//! The sweeps about waiting and memory: what an idle thread holds, how many waits fit as tasks
//! and as threads, and how long a CPU step may hold an async runtime's thread.

use super::{args, line};
use crate::sweep::Cap::{Machine, Time};
use crate::sweep::Lang::{Python as Py, Rust as Rs};
use crate::sweep::{Limit, Spec, Y};

/// Threads past this many are left out of a sweep: a kernel's defaults allow a few tens of
/// thousands (`pid_max` 32 768 process IDs for the whole machine, `max_map_count` 65 530 maps,
/// four a Rust thread), and the lessons refuse counts past them.
const MOST_THREADS: u64 = 10_000;

/// CPython starts and ends thousands of threads slowly (each under its one lock): its thread per
/// wait is swept this far, and no further, to keep the sweep inside its ten minutes.
const MOST_PYTHON_THREADS: u64 = 1_000;

/// The invocations at `x`: `always` on its own, and `threads` too while `x` is at most `most`;
/// each alone, so each child's peak memory is one variant's.
fn alone(always: &str, threads: &str, most: u64, x: u64, more: &[(&str, u64)]) -> Vec<Vec<String>> {
    let mut out = vec![args(&[always], more)];
    if x <= most {
        out.push(args(&[threads], more));
    }
    out
}

/// threads-basic over idle threads: the peak memory of a process holding that many at once.
pub const THREADS_MEMORY: Spec = Spec {
    lesson: "threads-basic",
    chart: "threads-basic-memory",
    script: "threads_basic.py",
    x_name: "threads",
    full: &[1, 10, 100, 1_000, 10_000],
    quick: &[1, 100],
    rust_args: |t| vec![args(&["idle-threads"], &[("threads", t)])],
    python_args: |t| vec![args(&["idle-threads"], &[("threads", t)])],
    series: &[
        line("Rust idle-threads", Rs, "idle-threads", Y::PeakRssMib),
        line("Python idle-threads", Py, "idle-threads", Y::PeakRssMib),
    ],
    limit: Limit::None,
    limit_for: &[],
    // Python's threads start and end far more slowly than Rust's as they grow.
    seconds: |t| 0.5 + 0.001_5 * t as f64,
    needs_redis: false,
};

/// async-mixed over concurrent waits: tokio tasks and asyncio's against a thread each, each
/// waiting one delay; the wall time against that delay, and the peak memory.
pub const ASYNC_WAITS: Spec = Spec {
    lesson: "async-mixed",
    chart: "async-mixed",
    script: "async_mixed.py",
    x_name: "waits",
    full: &[10, 100, 1_000, 10_000, 100_000],
    quick: &[10, 1_000],
    // A delay long enough for the largest count to be started before the first wait ends.
    rust_args: |w| {
        let sizes = [("waits", w), ("delay-ms", 1_000)];
        alone("wait-tasks", "wait-threads", MOST_THREADS, w, &sizes)
    },
    python_args: |w| {
        let sizes = [("waits", w), ("delay-ms", 1_000)];
        alone("wait-tasks", "wait-threads", MOST_PYTHON_THREADS, w, &sizes)
    },
    series: &[
        line("Rust wait-tasks", Rs, "wait-tasks", Y::WallS),
        line("Rust wait-threads", Rs, "wait-threads", Y::WallS).upto(MOST_THREADS, Machine),
        line("Python wait-tasks", Py, "wait-tasks", Y::WallS),
        line("Python wait-threads", Py, "wait-threads", Y::WallS).upto(MOST_PYTHON_THREADS, Time),
        line("Rust wait-tasks peak", Rs, "wait-tasks", Y::PeakRssMib),
        line("Rust wait-threads peak", Rs, "wait-threads", Y::PeakRssMib)
            .upto(MOST_THREADS, Machine),
        line("Python wait-tasks peak", Py, "wait-tasks", Y::PeakRssMib),
        line(
            "Python wait-threads peak",
            Py,
            "wait-threads",
            Y::PeakRssMib,
        )
        .upto(MOST_PYTHON_THREADS, Time),
    ],
    limit: Limit::OneDelay(1.0),
    limit_for: &[],
    seconds: |w| 4.6 + 0.000_02 * w as f64,
    needs_redis: false,
};

/// async-mixed over the length of each CPU step: the heartbeat's p99 with the step on the
/// runtime's own threads against handed off, the step's length drawn as what an inline step
/// stalls at least.
pub const ASYNC_HEARTBEAT: Spec = Spec {
    lesson: "async-mixed",
    chart: "async-mixed-heartbeat",
    script: "async_mixed.py",
    x_name: "job-ms",
    full: &[1, 4, 16, 64, 256],
    quick: &[1, 16],
    // Two steps a runtime thread: inline, the heartbeat waits behind one or two of them, so its
    // p99 follows a step's length. Many steps arriving at once would hold it for all of them,
    // whatever their length, and the curve would show the burst instead.
    rust_args: |j| {
        let v = ["cpu-inline", "cpu-spawn-blocking"];
        vec![args(&v, &[("job-ms", j), ("tasks", 4), ("workers", 2)])]
    },
    python_args: |j| {
        let v = ["cpu-inline", "cpu-thread-executor"];
        vec![args(&v, &[("job-ms", j), ("tasks", 4), ("workers", 2)])]
    },
    series: &[
        line("Rust cpu-inline", Rs, "cpu-inline", Y::P99Ms),
        line(
            "Rust cpu-spawn-blocking",
            Rs,
            "cpu-spawn-blocking",
            Y::P99Ms,
        ),
        line("Python cpu-inline", Py, "cpu-inline", Y::P99Ms),
        line(
            "Python cpu-thread-executor",
            Py,
            "cpu-thread-executor",
            Y::P99Ms,
        ),
    ],
    limit: Limit::StepLength,
    limit_for: &[],
    seconds: |j| 1.5 + 0.012 * j as f64,
    needs_redis: false,
};
