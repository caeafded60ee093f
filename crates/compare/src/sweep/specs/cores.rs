//! The lessons about using the cores and moving data between them: locks, CPU-bound work,
//! pools, pipes.

use super::{args, line, messages};
use crate::sweep::Lang::{Python as Py, Rust as Rs};
use crate::sweep::{Limit, Spec, Y};

/// race-lock over threads: each lock's rate, and the updates the racy variants lose.
pub const RACE_LOCK: Spec = Spec {
    lesson: "race-lock",
    chart: "race-lock",
    script: "race_lock.py",
    x_name: "workers",
    full: &[1, 2, 4, 8, 16, 32, 64],
    quick: &[1, 4],
    // Increments are per thread (the lesson's unit). The racy variants get 500 000 each on
    // both sides: CPython switches threads every 5 ms, so a thread done sooner loses nothing
    // and the count would say nothing; the locks get fewer, as their rate is what is read.
    rust_args: |w| {
        vec![
            args(&["racy"], &[("workers", w), ("increments", 500_000)]),
            args(
                &["mutex", "atomic", "rwlock"],
                &[("workers", w), ("increments", 100_000)],
            ),
        ]
    },
    python_args: |w| {
        vec![
            args(
                &["add-one-call"],
                &[("workers", w), ("increments", 500_000)],
            ),
            args(&["lock"], &[("workers", w), ("increments", 20_000)]),
        ]
    },
    series: &[
        line("Rust mutex", Rs, "mutex", Y::PerS),
        line("Rust atomic", Rs, "atomic", Y::PerS),
        line("Rust rwlock", Rs, "rwlock", Y::PerS),
        line("Python lock", Py, "lock", Y::PerS),
        line("Rust racy", Rs, "racy", Y::Lost),
        line("Python add-one-call", Py, "add-one-call", Y::Lost),
    ],
    limit: Limit::None,
    limit_for: &[],
    seconds: |w| 0.3 + 0.055 * w as f64,
    needs_redis: false,
};

/// cpu-processes over workers: each parallel variant's speedup over its own side's sequential.
pub const CPU_PROCESSES: Spec = Spec {
    lesson: "cpu-processes",
    chart: "cpu-processes",
    script: "cpu_processes.py",
    x_name: "workers",
    full: &[1, 2, 4, 8],
    quick: &[1, 2],
    // --n is each worker's; the total is held fixed, so every point does the same work and a
    // speedup is the same job done sooner. Rust sums a hundred times as many numbers for its
    // run to last as long as Python's. Three interleaved rounds inside each run: the lesson's
    // median of them keeps a moment of load on sequential alone from making a speedup.
    rust_args: |w| {
        vec![args(
            &[],
            &[("workers", w), ("n", 1_600_000_000 / w), ("rounds", 3)],
        )]
    },
    python_args: |w| {
        vec![args(
            &[],
            &[("workers", w), ("n", 4_000_000 / w), ("rounds", 3)],
        )]
    },
    series: &[
        line("Rust threads", Rs, "threads", Y::Speedup),
        line("Rust fork", Rs, "fork", Y::Speedup),
        line("Rust spawn", Rs, "spawn", Y::Speedup),
        line("Python threads", Py, "threads", Y::Speedup),
        line("Python fork", Py, "fork", Y::Speedup),
    ],
    limit: Limit::Cores,
    limit_for: &[],
    seconds: |w| 5.0 + 0.2 * w as f64,
    needs_redis: false,
};

/// pool-batch over chunk size: what each item costs, rayon beside as the floor.
pub const POOL_BATCH: Spec = Spec {
    lesson: "pool-batch",
    chart: "pool-batch",
    script: "pool_batch.py",
    x_name: "chunk",
    full: &[1, 4, 16, 64, 256, 1024, 4096],
    quick: &[1, 64],
    rust_args: |c| {
        let v = ["thread-pool-chunked", "process-pool", "rayon"];
        vec![args(
            &v,
            &[("chunk", c), ("items", 100_000), ("batches", 1)],
        )]
    },
    // The twin has no --variant: it runs all of them, its batch ones kept to one batch.
    python_args: |c| {
        vec![args(
            &[],
            &[("chunk", c), ("items", 100_000), ("batches", 1)],
        )]
    },
    series: &[
        line(
            "Rust thread-pool-chunked",
            Rs,
            "thread-pool-chunked",
            Y::PerItemNs,
        ),
        line("Rust process-pool", Rs, "process-pool", Y::PerItemNs),
        line("Rust rayon (no chunk)", Rs, "rayon", Y::PerItemNs),
        line(
            "Python threadpool-map-chunked",
            Py,
            "threadpool-map-chunked",
            Y::PerItemNs,
        ),
        line(
            "Python pool-map-chunked",
            Py,
            "pool-map-chunked",
            Y::PerItemNs,
        ),
    ],
    limit: Limit::None,
    limit_for: &[],
    seconds: |c| 1.2 + 3.0 / c as f64,
    needs_redis: false,
};

/// queue-ipc over message size: messages through ipc-channel, a pipe and a ring in shared memory,
/// Python's Queue and Pipe beside, memcpy as the ceiling.
pub const QUEUE_IPC: Spec = Spec {
    lesson: "queue-ipc",
    chart: "queue-ipc",
    script: "queue_ipc.py",
    x_name: "bytes",
    full: &[16, 64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576],
    quick: &[16, 4096],
    rust_args: |b| {
        let v = ["ipc-channel", "pipe-per-message", "pipe", "shm-ring"];
        vec![args(&v, &[("bytes", b), ("messages", messages(b))])]
    },
    python_args: |b| {
        let v = ["queue", "pipe", "pipe-batched"];
        vec![args(&v, &[("bytes", b), ("messages", messages(b))])]
    },
    series: &[
        line("Rust ipc-channel", Rs, "ipc-channel", Y::MegabytesPerS),
        line(
            "Rust pipe-per-message",
            Rs,
            "pipe-per-message",
            Y::MegabytesPerS,
        ),
        line("Rust pipe (batched)", Rs, "pipe", Y::MegabytesPerS),
        line("Rust shm-ring", Rs, "shm-ring", Y::MegabytesPerS),
        line("Python queue", Py, "queue", Y::MegabytesPerS),
        line("Python pipe", Py, "pipe", Y::MegabytesPerS),
        line("Python pipe-batched", Py, "pipe-batched", Y::MegabytesPerS),
    ],
    limit: Limit::Memcpy,
    limit_for: &[],
    seconds: |_| 2.0,
    needs_redis: false,
};
