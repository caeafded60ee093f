//! A distributed task queue: producers put jobs on a broker, worker processes (on one machine
//! or many) pull them, and every job is done at least once, even when a worker is killed or
//! the broker fails for a while. The broker is a SQLite file by default (no server) or a
//! Redis server (`--broker redis://...`) when workers run on several machines.
//!
//! # The Python original
//!
//! The tutorial ends with Celery: `@app.task def square(x)`, `square.delay(4)`, and
//! `celery -A tasks worker` on as many machines as you like, all pulling from one Redis
//! (`examples/python/task_queue.py`). Here it is `apalis` 1.0: a job is a `Serialize` struct,
//! a worker an async function, the broker a backend crate. What differs: no pickling and no
//! task registry (the compiler checks the job's type); delivery is at least once, so a job can
//! run twice and must be idempotent (results keyed by task id); and apalis ends a worker on
//! the first broker error, so a supervising loop restarts it (step 4), where Celery's workers
//! reconnect by themselves. Celery acknowledges a job when it starts by default, so a worker
//! killed mid-job loses it; apalis gives a dead worker's jobs to another once its heartbeat
//! stops ([`broker::HEARTBEAT`] x [`broker::MISSED_HEARTBEATS`], shortened from apalis'
//! default of a minute or more). Producers keep at most [`broker::BACKLOG`] jobs waiting,
//! since apalis-redis 1.0.0 fails on a long backlog; and a SQLite queue is opened with fixed
//! planner statistics, without which some of apalis-sqlite's queries slow down as the queue
//! grows.
//!
//! # What to watch for
//!
//! - jobs/s and enqueue-to-done latency per backend (latency crosses processes, so it is taken
//!   from the wall clock); `check` counts jobs whose result equals the closed form.
//! - `redeliveries`: deliveries no retry explains, counted by the handler in the broker; after
//!   a worker was killed (`worker_restarts`) they say whether it held jobs, and `check` stays
//!   `ok`. Benchmark figures are in `docs/results.md`.
//!
//! # Running it
//!
//! ```text
//! cargo run --release -p task-queue                                 # demo on a temporary SQLite file
//! cargo run --release -p task-queue -- demo --broker redis://127.0.0.1:6379
//! # or by hand, one command per terminal (or per machine, sharing one Redis):
//! cargo run --release -p task-queue -- worker --broker sqlite:///tmp/q.db
//! cargo run --release -p task-queue -- submit --broker sqlite:///tmp/q.db --jobs 1000
//! cargo run --release -p task-queue -- status --broker sqlite:///tmp/q.db
//! ```
//!
//! # The steps, in reading order
//!
//! 1. [`steps::s1_job`]: the job and its handler, idempotent, keyed by task id.
//! 2. [`steps::s2_producer`]: a producer pushing jobs under ids it makes.
//! 3. [`steps::s3_worker`]: a worker pulling them: `WorkerBuilder` and a poll interval.
//! 4. [`steps::s4_supervise`]: surviving broker faults: the worker restarted with backoff.
//! 5. [`steps::s5_processes`]: several worker processes, a killed one replaced.
//!
//! Then [`measure`] runs the demo and builds its row, and [`verdict`] says what it means.

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
