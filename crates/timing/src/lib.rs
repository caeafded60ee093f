//! The timing and output every lesson shares, so that each lesson's own code is only its lesson.
//!
//! Every binary in this workspace measures what it does in the same run and reports it the same
//! way: a [`Stopwatch`] for wall time, [`Latencies`] for percentiles (an `hdrhistogram`), a
//! [`Row`] per variant with the fields scripts rely on, and a [`Report`] that prints a table for
//! people (fastest first, human units, the lesson's verdict underneath) or one JSON object per
//! line with `--json`. [`CommonArgs`] holds the flags every binary shares, and [`main_with`]
//! turns errors into one line and the project's exit statuses.
//!
//! What this crate does *not* hold is any concurrency pattern: those live in the lessons, whole,
//! where a reader looks for them.
//!
//! ```
//! use std::time::Duration;
//! use timing::{Report, Row};
//!
//! let mut report = Report::new("demo");
//! report.push(
//!     Row::new("demo", "counted")
//!         .workers(2)
//!         .items(10)
//!         .check(10, 10)
//!         .wall(Duration::from_millis(5)),
//! );
//! assert!(report.all_as_expected());
//! ```

mod budget;
mod cli;
mod format;
mod latency;
mod report;
mod row;
mod stopwatch;

pub use budget::{ANNOUNCE_AFTER, REFUSE_AFTER, check_duration, extrapolate, fmt_minutes};
pub use cli::{CommonArgs, UsageError, between, cores, main_with, selected, usage_error};
pub use format::{fmt_bytes_rate, fmt_count, fmt_duration, fmt_ns, fmt_rate};
pub use latency::Latencies;
pub use report::Report;
pub use row::{Mechanism, Row};
pub use stopwatch::Stopwatch;
