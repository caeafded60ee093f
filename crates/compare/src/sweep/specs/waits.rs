//! The sweeps about waiting and memory: what an idle thread holds, how many waits fit as tasks
//! and as threads, and how long a CPU step may hold an async runtime's thread.

use super::line;
use crate::sweep::Lang::{Python as Py, Rust as Rs};
use crate::sweep::{Limit, Spec, Y, args};

/// Threads past this many are left out of a sweep: every thread takes a process ID, and a
/// kernel's default `pid_max` is 32 768 for the whole machine.
const MOST_THREADS: u64 = 10_000;

/// The invocations at `x`: `always` each on its own, and `threads` too while `x` is at most
/// [`MOST_THREADS`]; each alone, so each child's peak memory is one variant's.
fn alone(always: &str, threads: &str, x: u64, more: &[(&str, u64)]) -> Vec<Vec<String>> {
    let mut out = vec![args(&[always], more)];
    if x <= MOST_THREADS {
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
    seconds: |t| 0.4 + 0.000_2 * t as f64,
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
        alone(
            "wait-tasks",
            "wait-threads",
            w,
            &[("waits", w), ("delay-ms", 1_000)],
        )
    },
    python_args: |w| {
        alone(
            "wait-tasks",
            "wait-threads",
            w,
            &[("waits", w), ("delay-ms", 1_000)],
        )
    },
    series: &[
        line("Rust wait-tasks", Rs, "wait-tasks", Y::WallS),
        line("Rust wait-threads", Rs, "wait-threads", Y::WallS).upto(MOST_THREADS),
        line("Python wait-tasks", Py, "wait-tasks", Y::WallS),
        line("Python wait-threads", Py, "wait-threads", Y::WallS).upto(MOST_THREADS),
        line("Rust wait-tasks peak", Rs, "wait-tasks", Y::PeakRssMib),
        line("Rust wait-threads peak", Rs, "wait-threads", Y::PeakRssMib).upto(MOST_THREADS),
        line("Python wait-tasks peak", Py, "wait-tasks", Y::PeakRssMib),
        line(
            "Python wait-threads peak",
            Py,
            "wait-threads",
            Y::PeakRssMib,
        )
        .upto(MOST_THREADS),
    ],
    limit: Limit::OneDelay(1.0),
    seconds: |w| 4.4 + 0.000_02 * w as f64,
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
    // About a second of CPU steps in all at every length: many short ones, a few long ones.
    rust_args: |j| {
        let v = ["cpu-inline", "cpu-spawn-blocking"];
        vec![args(&v, &[("job-ms", j), ("tasks", steps(j))])]
    },
    python_args: |j| {
        let v = ["cpu-inline", "cpu-thread-executor"];
        vec![args(&v, &[("job-ms", j), ("tasks", steps(j))])]
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
    seconds: |_| 3.5,
    needs_redis: false,
};

/// CPU steps of `job_ms` each making about a second of work in all, at least four.
fn steps(job_ms: u64) -> u64 {
    (1_000 / job_ms.max(1)).clamp(4, 1_000)
}
