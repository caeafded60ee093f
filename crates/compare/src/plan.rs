//! What to run: each lesson's Python twin and Rust binary, and the sizes both get.
//!
//! Both sides take the same flags for the sizes they share, so one argument list serves both.
//! The sizes are chosen so that the *Python* side finishes in about a second: the Rust side
//! then often finishes in milliseconds, which is the point.

/// One lesson to compare.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// The Rust binary, which is also the lesson's name.
    pub lesson: &'static str,
    /// The twin, under `examples/python/`.
    pub script: &'static str,
    /// Arguments for both sides in a full run.
    pub full: &'static [&'static str],
    /// Arguments for both sides with `--quick`.
    pub quick: &'static [&'static str],
    /// Whether the pair needs a Redis broker (`--broker URL` is added to both sides) and runs
    /// its twin with the Celery environment's Python.
    pub needs_redis: bool,
}

impl Plan {
    /// The arguments for this run.
    pub fn args(&self, quick: bool) -> &'static [&'static str] {
        if quick { self.quick } else { self.full }
    }
}

/// Every lesson with a twin, in the order the tutorials teach them.
pub const PLANS: &[Plan] = &[
    Plan {
        lesson: "threads-basic",
        script: "threads_basic.py",
        full: &["--requests", "20", "--delay-ms", "50"],
        quick: &["--requests", "8", "--delay-ms", "20", "--numbers", "100000"],
        needs_redis: false,
    },
    Plan {
        lesson: "race-lock",
        script: "race_lock.py",
        full: &["--workers", "10", "--increments", "100000"],
        quick: &["--workers", "10", "--increments", "10000"],
        needs_redis: false,
    },
    Plan {
        lesson: "cpu-processes",
        script: "cpu_processes.py",
        full: &["--workers", "2", "--n", "5000000", "--rounds", "3"],
        quick: &["--workers", "2", "--n", "200000", "--rounds", "1"],
        needs_redis: false,
    },
    Plan {
        lesson: "queue-ipc",
        script: "queue_ipc.py",
        full: &[
            "--messages",
            "100000",
            "--increments",
            "200000",
            "--elements",
            "4000000",
        ],
        quick: &[
            "--messages",
            "5000",
            "--increments",
            "10000",
            "--elements",
            "100000",
        ],
        needs_redis: false,
    },
    Plan {
        lesson: "pool-batch",
        script: "pool_batch.py",
        full: &["--items", "100000"],
        quick: &["--items", "5000", "--batches", "10"],
        needs_redis: false,
    },
    Plan {
        lesson: "executor-completed",
        script: "executor_completed.py",
        full: &["--tasks", "5000"],
        quick: &["--tasks", "500"],
        needs_redis: false,
    },
    Plan {
        lesson: "async-mixed",
        script: "async_mixed.py",
        full: &["--requests", "200", "--tasks", "16", "--work", "200000"],
        quick: &["--requests", "50", "--tasks", "8", "--work", "20000"],
        needs_redis: false,
    },
    Plan {
        lesson: "task-queue",
        script: "task_queue.py",
        full: &["--jobs", "1000", "--workers", "2"],
        quick: &["--jobs", "100", "--workers", "2"],
        needs_redis: true,
    },
];
