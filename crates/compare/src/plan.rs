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
    /// Whether the pair needs a Redis server (`REDIS_URL`) and the Celery environment.
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
        full: &["--requests", "20", "--delay-ms", "50", "--workers", "8"],
        quick: &["--requests", "8", "--delay-ms", "20", "--workers", "4"],
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
        full: &["--workers", "2", "--n", "10000000"],
        quick: &["--workers", "2", "--n", "200000"],
        needs_redis: false,
    },
    Plan {
        lesson: "queue-ipc",
        script: "queue_ipc.py",
        full: &["--messages", "100000"],
        quick: &["--messages", "5000"],
        needs_redis: false,
    },
    Plan {
        lesson: "pool-batch",
        script: "pool_batch.py",
        full: &["--items", "100000"],
        quick: &["--items", "5000"],
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
        full: &["--requests", "200", "--tasks", "16"],
        quick: &["--requests", "50", "--tasks", "8"],
        needs_redis: false,
    },
];
