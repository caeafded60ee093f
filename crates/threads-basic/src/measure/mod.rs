//! Times each step and builds its row: wall time, throughput, the checked numbers and, for the
//! I/O steps, every request's latency.
//!
//! The steps run as written. The I/O steps take the work for one page as a function, so the
//! rows here hand them the step-6 `fetch` with a stopwatch around it; the threads are the
//! steps' own.

use std::time::Duration;

use timing::{Mechanism, Row, fmt_count};

use crate::LESSON;
use crate::steps::s5_control::{Controlled, UNITS};

mod basics;
mod idle;
mod io;

pub use basics::{control, hello, job_trait, named, scoped};
pub use idle::{IdleThreads, Memory, check_thread_limit, idle_threads};
pub use io::{check_io_length, io_pool, io_sequential, io_thread_per_request};

/// A step's row, and what the step returned, for the verdict to read.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The row printed in the table and as JSON.
    pub row: Row,
    /// What the step computed, typed.
    pub outcome: Outcome,
}

/// What each step computed, beside the number it should have computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Step 1: items arrived, against ten.
    Hello {
        /// How many arrived.
        arrived: u64,
        /// Whether each thread's items kept their order.
        kept_order: bool,
    },
    /// Steps 2 to 4: the threads' total, against `n(n+1)/2`.
    Sum {
        /// `n(n+1)/2`.
        expected: u64,
        /// What the threads added up to.
        total: u64,
    },
    /// Step 5: what the main thread saw while it steered the worker.
    Control(Controlled),
    /// Steps 6 to 8: the pages fetched.
    Io(Fetches),
    /// Step 9: the threads held alive at once, and the memory around them.
    Idle(IdleThreads),
}

/// What an I/O step fetched, and under which conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetches {
    /// Pages asked for.
    pub requests: u64,
    /// How long the server held each response back.
    pub delay: Duration,
    /// The most requests in flight at once: 1, `requests`, or the pool's threads.
    pub in_flight: usize,
    /// Pages that arrived whole, each once.
    pub whole: u64,
}

/// `1 + 2 + ... + n` in closed form: the number every summing step is checked against,
/// computed without running any of them.
pub fn sum_to(n: u64) -> u64 {
    // n(n+1)/2 with the division done first on whichever factor is even, so it cannot overflow
    // for any n the command line accepts.
    if n.is_multiple_of(2) {
        (n / 2) * (n + 1)
    } else {
        n * n.div_ceil(2)
    }
}

/// Lines under the table saying what the latency columns and the checks count in these rows.
pub fn legend(measured: &[Measured]) -> Vec<String> {
    let has = |f: fn(&Outcome) -> bool| measured.iter().any(|m| f(&m.outcome));
    let mut lines = Vec::new();
    if has(|o| matches!(o, Outcome::Io(_))) {
        lines.push(
            "p50/p99/max: each request's latency in the io-* rows, from sending the GET to the \
             last byte of the body"
                .to_string(),
        );
        lines.push(
            "io-* check: body bytes received, against what the server sends for those pages"
                .to_string(),
        );
    }
    if has(|o| matches!(o, Outcome::Sum { .. })) {
        lines.push("named, job-trait, scoped check: the threads' total, against n(n+1)/2".into());
    }
    if has(|o| matches!(o, Outcome::Control(_))) {
        lines.push(format!(
            "control check: units of work the worker did before it was stopped, against the {} \
             of its job",
            fmt_count(UNITS)
        ));
    }
    if has(|o| matches!(o, Outcome::Idle(_))) {
        lines.push(
            "idle-threads check: threads alive and blocked at the same moment, against --threads; \
             KiB each: VmRSS (resident) and VmSize (reserved) while they are alive, less before"
                .into(),
        );
    }
    lines
}

/// A row of this lesson.
fn row(variant: &str, mechanism: Mechanism, workers: usize) -> Row {
    Row::new(LESSON, variant)
        .mechanism(mechanism)
        .workers(workers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_matches_a_loop() {
        for n in [1, 2, 3, 10, 1001] {
            assert_eq!(sum_to(n), (1..=n).sum::<u64>(), "n = {n}");
        }
        assert_eq!(sum_to(20_000_000), 200_000_010_000_000);
    }
}
