//! What each lesson sweeps, at which points, with which sizes, and which lines it draws.
//!
//! Sizes are picked so that one run of both sides at the largest point takes a second or two on
//! two cores: the estimate ([`Spec::seconds`]) has to stay honest for the ten-minute refusal.

use super::{Lang, Limit, Series, Spec, Y, args};

/// A series of `lang`'s `variant` reading `y`, named `name` in the legend.
const fn line(name: &'static str, lang: Lang, variant: &'static str, y: Y) -> Series {
    Series { name, lang, variant, y }
}

use Lang::{Python as Py, Rust as Rs};

/// Every lesson swept, in the order the tutorials teach them (task-queue is not: see the docs).
pub const SPECS: &[Spec] = &[
    Spec {
        lesson: "race-lock",
        script: "race_lock.py",
        x_name: "workers",
        full: &[1, 2, 4, 8, 16, 32, 64],
        quick: &[1, 4],
        // Increments are per thread (the lesson's unit), so the total grows with the workers.
        rust_args: |w| {
            let v = ["racy", "mutex", "atomic", "rwlock"].map(|v| ["--variant", v]);
            args(&v.concat(), &[("workers", w), ("increments", 50_000)])
        },
        python_args: |w| {
            let v = ["--variant", "add-one-call", "--variant", "lock"];
            args(&v, &[("workers", w), ("increments", 5_000)])
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
        seconds: |w| 0.3 + 0.01 * w as f64,
    },
    Spec {
        lesson: "cpu-processes",
        script: "cpu_processes.py",
        x_name: "workers",
        full: &[1, 2, 4, 8],
        quick: &[1, 2],
        // --n is each worker's; the total is held fixed, so every point does the same work and a
        // speedup is the same job done sooner. Rust sums a hundred times as many numbers for its
        // run to last as long as Python's.
        rust_args: |w| args(&["--rounds", "1"], &[("workers", w), ("n", 400_000_000 / w)]),
        python_args: |w| args(&["--rounds", "1"], &[("workers", w), ("n", 4_000_000 / w)]),
        series: &[
            line("Rust threads", Rs, "threads", Y::Speedup),
            line("Rust fork", Rs, "fork", Y::Speedup),
            line("Rust spawn", Rs, "spawn", Y::Speedup),
            line("Python threads", Py, "threads", Y::Speedup),
            line("Python fork", Py, "fork", Y::Speedup),
        ],
        limit: Limit::Cores,
        seconds: |w| 2.5 + 0.1 * w as f64,
    },
    Spec {
        lesson: "pool-batch",
        script: "pool_batch.py",
        x_name: "chunk",
        full: &[1, 4, 16, 64, 256, 1024, 4096],
        quick: &[1, 64],
        rust_args: |c| {
            let v = ["thread-pool-chunked", "process-pool", "rayon"].map(|v| ["--variant", v]);
            args(&v.concat(), &[("chunk", c), ("items", 20_000), ("batches", 1)])
        },
        // The twin has no --variant: it runs all of them, its batch ones kept to one batch.
        python_args: |c| args(&[], &[("chunk", c), ("items", 20_000), ("batches", 1)]),
        series: &[
            line("Rust thread-pool-chunked", Rs, "thread-pool-chunked", Y::PerItemNs),
            line("Rust process-pool", Rs, "process-pool", Y::PerItemNs),
            line("Rust rayon (no chunk)", Rs, "rayon", Y::PerItemNs),
            line("Python threadpool-map-chunked", Py, "threadpool-map-chunked", Y::PerItemNs),
            line("Python pool-map-chunked", Py, "pool-map-chunked", Y::PerItemNs),
        ],
        limit: Limit::None,
        seconds: |c| 0.8 + 1.5 / c as f64,
    },
    Spec {
        lesson: "queue-ipc",
        script: "queue_ipc.py",
        x_name: "bytes",
        full: &[16, 64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576],
        quick: &[16, 4096],
        rust_args: |b| {
            let v = ["ipc-channel", "pipe-per-message", "pipe"].map(|v| ["--variant", v]);
            args(&v.concat(), &[("bytes", b), ("messages", messages(b))])
        },
        python_args: |b| {
            let v = ["--variant", "queue", "--variant", "pipe", "--variant", "pipe-batched"];
            args(&v, &[("bytes", b), ("messages", messages(b))])
        },
        series: &[
            line("Rust ipc-channel", Rs, "ipc-channel", Y::MegabytesPerS),
            line("Rust pipe-per-message", Rs, "pipe-per-message", Y::MegabytesPerS),
            line("Rust pipe (batched)", Rs, "pipe", Y::MegabytesPerS),
            line("Python queue", Py, "queue", Y::MegabytesPerS),
            line("Python pipe", Py, "pipe", Y::MegabytesPerS),
            line("Python pipe-batched", Py, "pipe-batched", Y::MegabytesPerS),
        ],
        limit: Limit::Memcpy,
        seconds: |_| 1.2,
    },
    Spec {
        lesson: "executor-completed",
        script: "executor_completed.py",
        x_name: "tasks",
        full: &[1, 10, 100, 1_000, 10_000],
        quick: &[10, 100],
        rust_args: |t| {
            let v = ["--variant", "threads-as-completed", "--variant", "processes-as-completed"];
            args(&v, &[("tasks", t)])
        },
        python_args: |t| {
            let v = ["--variant", "threads-as-completed", "--variant", "processes-as-completed"];
            args(&v, &[("tasks", t)])
        },
        series: &[
            line("Rust threads-as-completed", Rs, "threads-as-completed", Y::PerItemNs),
            line("Rust processes-as-completed", Rs, "processes-as-completed", Y::PerItemNs),
            line("Python thread-pool-executor", Py, "thread-pool-executor", Y::PerItemNs),
            line("Python process-pool-executor", Py, "process-pool-executor", Y::PerItemNs),
        ],
        limit: Limit::None,
        seconds: |t| 0.4 + 0.0002 * t as f64,
    },
];

/// Messages at `bytes` each: 32 MiB in all, between 32 and 20 000 of them, so the small messages
/// are many enough to time and the large ones few enough to finish.
fn messages(bytes: u64) -> u64 {
    ((32 << 20) / bytes).clamp(32, 20_000)
}
