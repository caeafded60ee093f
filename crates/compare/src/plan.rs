//! What to run: each lesson's Python twin and Rust binary, and the sizes both get.
//!
//! Both sides take the same flags for the sizes they share, so one argument list serves both.
//! The sizes are chosen so that the *Python* side finishes in about a second. Where the Rust
//! side would then finish in milliseconds, too short for the lesson's own point to show (a
//! parallel speedup, a stalled heartbeat), the plan gives it sizes of its own: the table
//! compares rates, so the two sides may do different amounts of the same work.

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
    /// Arguments for the Rust side alone in a full run, where it needs sizes of its own.
    pub rust_full: Option<&'static [&'static str]>,
    /// Arguments for the Rust side alone with `--quick`.
    pub rust_quick: Option<&'static [&'static str]>,
    /// Pairs (Python variant, Rust variant) compared across mechanisms on purpose; every other
    /// pair must have the same mechanism on both sides.
    pub cross: &'static [(&'static str, &'static str)],
    /// Rust variants whose work is waiting (sleeps, network delays) rather than computing.
    pub waits: &'static [&'static str],
    /// Whether the pair needs a Redis broker (`--broker URL` is added to both sides) and runs
    /// its twin with the Celery environment's Python.
    pub needs_redis: bool,
}

impl Plan {
    /// The arguments for this run.
    pub fn args(&self, quick: bool) -> &'static [&'static str] {
        if quick { self.quick } else { self.full }
    }

    /// The Rust side's arguments for this run: its own sizes where the plan gives them.
    pub fn rust_args(&self, quick: bool) -> &'static [&'static str] {
        let own = if quick {
            self.rust_quick
        } else {
            self.rust_full
        };
        own.unwrap_or_else(|| self.args(quick))
    }

    /// Whether the Rust side runs sizes of its own (so the two sides' `items` may differ).
    pub fn own_sizes(&self) -> bool {
        self.rust_full.is_some() || self.rust_quick.is_some()
    }

    /// Whether the plan pairs these two variants across mechanisms on purpose.
    pub fn is_cross(&self, python: &str, rust: &str) -> bool {
        self.cross.contains(&(python, rust))
    }
}

/// The fields every plan shares by default: no sizes of its own, nothing across mechanisms.
const SAME: Plan = Plan {
    lesson: "",
    script: "",
    full: &[],
    quick: &[],
    rust_full: None,
    rust_quick: None,
    cross: &[],
    waits: &[],
    needs_redis: false,
};

/// Every lesson with a twin, in the order the tutorials teach them.
pub const PLANS: &[Plan] = &[
    Plan {
        lesson: "threads-basic",
        script: "threads_basic.py",
        full: &["--requests", "20", "--delay-ms", "50"],
        quick: &["--requests", "8", "--delay-ms", "20", "--numbers", "100000"],
        waits: &["io-sequential", "io-thread-per-request", "io-pool"],
        ..SAME
    },
    Plan {
        lesson: "race-lock",
        script: "race_lock.py",
        full: &["--workers", "10", "--increments", "100000"],
        quick: &["--workers", "10", "--increments", "10000"],
        ..SAME
    },
    Plan {
        lesson: "cpu-processes",
        script: "cpu_processes.py",
        full: &["--workers", "2", "--n", "5000000", "--rounds", "3"],
        quick: &["--workers", "2", "--n", "200000", "--rounds", "1"],
        // At Python's sizes Rust's whole run takes milliseconds, too short for a parallel
        // speedup to show over starting the workers; these take about a second sequentially.
        rust_full: Some(&["--workers", "2", "--n", "600000000", "--rounds", "3"]),
        rust_quick: Some(&["--workers", "2", "--n", "150000000", "--rounds", "1"]),
        ..SAME
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
        ..SAME
    },
    Plan {
        lesson: "pool-batch",
        script: "pool_batch.py",
        full: &["--items", "100000", "--batches", "20"],
        quick: &["--items", "5000", "--batches", "10"],
        cross: &[("pool-map-default-chunks", "rayon")],
        ..SAME
    },
    Plan {
        lesson: "executor-completed",
        script: "executor_completed.py",
        full: &["--tasks", "5000"],
        quick: &["--tasks", "500"],
        waits: &["errors", "timeout", "priority"],
        ..SAME
    },
    Plan {
        lesson: "async-mixed",
        script: "async_mixed.py",
        full: &["--requests", "200", "--tasks", "16", "--work", "200000"],
        quick: &["--requests", "50", "--tasks", "8", "--work", "20000"],
        // Python's sums stall its loop at 200 000 a task; Rust's need a hundred times more work
        // before the stall shows above the machine's noise: its default --work is sized by a pilot
        // sum to hold the runtime past its stall floor.
        rust_full: Some(&["--requests", "200"]),
        waits: &["io-gather"],
        ..SAME
    },
    Plan {
        lesson: "task-queue",
        script: "task_queue.py",
        full: &["--jobs", "1000", "--workers", "2"],
        quick: &["--jobs", "100", "--workers", "2"],
        needs_redis: true,
        ..SAME
    },
];
