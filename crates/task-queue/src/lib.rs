//! A distributed task queue: producers put jobs on a broker, worker processes (on one machine
//! or many) pull them, and every job is done at least once, even when a worker is killed.
//!
//! The Python tutorial ends with Celery: `@app.task def square(x)`, `square.delay(4)`, and
//! `celery -A tasks worker` started on as many machines as you like, all pulling from one
//! Redis or RabbitMQ. Rust's counterpart here is `apalis` 1.0: a job is any `Serialize` type,
//! a worker is an async function, and the broker is a backend crate: `apalis-sqlite` (one
//! file, no server: the default here) or `apalis-redis` (when workers run on several
//! machines). What differs from Celery:
//! - No pickling and no task registry: the job is a plain struct ([`job::Job`]) that travels as
//!   JSON, and the worker is the function [`job::handle`], checked by the compiler.
//! - A killed worker loses nothing. Every worker beats a heartbeat into the broker; when its
//!   beats stop for 3 s ([`broker::HEARTBEAT`] x [`broker::MISSED_HEARTBEATS`]), another
//!   worker puts its jobs back on the queue. Celery, by default, acknowledges a job when it
//!   starts (`acks_late=False`), so a worker killed mid-job loses it, and a Redis broker hides
//!   a dead worker's prefetched jobs for its visibility timeout (one hour).
//! - Delivery is *at least once*, as with every broker that survives crashes: a job can run
//!   twice (the killed run and the rerun), and nothing here or in apalis prevents that. So the
//!   jobs must be idempotent, and these are: a result is stored under its job's task id, so a
//!   rerun overwrites it instead of adding a second one. Make your own jobs idempotent too (an
//!   upsert keyed by job id, not an append; no side effect that must happen exactly once).
//! - A failing job is retried in the worker ([`apalis::prelude::RetryPolicy`], `--retries`),
//!   then recorded as failed with its error; `task-queue status` lists it.
//!
//! What apalis 1.0.0 could not do as it comes, and what this crate does instead:
//! - Notice a dead worker soon: by default it waits 60 s (SQLite) or 300 s (Redis) of missed
//!   heartbeats; the heartbeat is shortened here ([`broker`]), so a killed worker's job runs
//!   again within seconds.
//! - Live through a broker fault: a worker ends on the first "database is locked" or dropped
//!   Redis connection; here it is restarted in-process and waits with backoff ([`fault`]).
//! - Take a long backlog: apalis-sqlite slows about five-fold past a few thousand pending jobs
//!   and then fails with "database is locked", apalis-redis fails when about 8000 jobs fall
//!   due at once; producers here keep at most [`broker::BACKLOG`] jobs waiting (backpressure;
//!   its doc has the figures).
//! - Count a redelivery on Redis: apalis-redis re-queues a dead worker's jobs without counting
//!   an attempt, so there `rerun` counts only retries of failing jobs; the killed job shows in
//!   `worker_restarts` and in the latency's `max`.
//! - Report status cheaply or at all: apalis-redis' `check_status` costs three round trips per
//!   job ([`queue`] asks in one pipeline), and its `Metrics` script fails on a queue in use
//!   ([`status`] reads apalis' records itself).
//! - Poll an empty queue promptly, or tell two workers of one name apart: a worker is given a
//!   poll interval and a name with host and pid ([`worker`]).
//!
//! Latency is enqueue-to-done across processes, so it is taken from the wall clock
//! (`SystemTime`), the only clock two processes (or machines) share.
//!
//! What to watch for in the output: jobs/s and the enqueue-to-done latency per backend (Redis
//! is the faster broker; SQLite needs no server); `rerun` (jobs started more than once) and
//! `worker_restarts` after a worker was killed, with `check` still `ok`.
//!
//! How to run it:
//! ```text
//! cargo run --release -p task-queue                                 # demo on a temporary SQLite file
//! cargo run --release -p task-queue -- demo --broker redis://127.0.0.1:6379
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --release -p task-queue -- --variant sqlite --variant redis
//! # or by hand, one command per terminal (or per machine, sharing one Redis):
//! cargo run --release -p task-queue -- worker --broker sqlite:///tmp/q.db
//! cargo run --release -p task-queue -- submit --broker sqlite:///tmp/q.db --jobs 1000
//! cargo run --release -p task-queue -- status --broker sqlite:///tmp/q.db
//! ```

pub mod batch;
pub mod broker;
pub mod demo;
pub mod fault;
pub mod job;
pub mod queue;
mod redis_broker;
pub mod scratch;
pub mod status;
pub mod stop;
pub mod supervise;
pub mod verdict;
pub mod worker;

/// The lesson's name, as every row spells it.
pub const LESSON: &str = "task-queue";

pub use broker::{Broker, BrokerError};
pub use demo::{DemoOptions, DemoOutcome};
pub use queue::Queue;
