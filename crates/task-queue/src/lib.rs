//! A distributed task queue, Celery's model: producers put jobs on a broker, worker processes
//! (on one machine or many) pull them, and every job is done at least once, even when a worker
//! is killed or the broker fails for a while. The broker is a SQLite file by default (no
//! server) or Redis (`--broker redis://...`) when workers run on several machines; the jobs are
//! `apalis` 1.0's, and every result is checked by its task id.
//!
//! # The steps, in reading order
//!
//! 1. [`steps::s1_job`]: the job and its handler, idempotent, keyed by task id.
//! 2. [`steps::s2_producer`]: a producer pushing jobs under ids it makes.
//! 3. [`steps::s3_worker`]: a worker pulling them: `WorkerBuilder` and a poll interval.
//! 4. [`steps::s4_supervise`]: surviving broker faults: the worker restarted with backoff.
//! 5. [`steps::s5_processes`]: several worker processes, a killed one replaced.
//!
//! Beside them: [`broker`] and [`queue`] connect to either backend, [`fault`] tells faults that
//! pass from faults that do not, [`measure`] runs the demo and [`verdict`] says what it means.
//!
//! Read: `book/src/task-queue.md` (the chapter: Celery's program, each step, the figures).
//! Copy: `examples/task_queue.rs` (a producer and a worker on a SQLite file, in one process).
//! Run: `cargo run --release -p task-queue`.

pub mod steps;

pub mod broker;
pub mod deliveries;
pub mod fault;
pub mod measure;
pub mod queue;
mod redis_broker;
pub mod scratch;
mod sqlite_broker;
pub mod status;
pub mod stop;
pub mod submit;
pub mod verdict;

/// The lesson's name, as every row spells it.
pub const LESSON: &str = "task-queue";

pub use broker::{Broker, BrokerError};
pub use measure::{DemoOptions, DemoOutcome};
pub use queue::Queue;
