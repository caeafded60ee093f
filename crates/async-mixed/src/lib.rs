//! Many concurrent I/O waits on one `tokio` runtime, and the CPU-bound work kept off it: a task
//! gives its worker thread back only at an `.await`, so CPU work between two `.await`s holds up
//! every other task on that worker, timers and sockets included, until it is handed to threads
//! of its own (`spawn_blocking`, a `rayon` pool) and awaited from there.
//!
//! # The Python original
//!
//! The tutorial's last single-machine program: `asyncio.gather` over many downloads, and
//! `loop.run_in_executor(ProcessPoolExecutor(), crunch, data)` for the CPU-bound part, because
//! CPU work on the event loop freezes every other coroutine and threads would not help under
//! the GIL. `examples/python/async_mixed.py` runs it beside this lesson. Rust keeps the shape
//! (a `JoinSet` is the `gather`) but needs no second process: with no GIL, threads run the CPU
//! work in parallel, and a oneshot channel brings each answer back to its task. And tokio has
//! several workers where asyncio has one loop; CPU work still stalls it once every worker is in
//! a CPU step.
//!
//! # What to watch for
//!
//! - `io-gather` finishes in about one server delay, not `--requests` of them.
//! - p50/p99/max are the heartbeat's lateness: a task that wants to run every millisecond, each
//!   tick timed against its schedule. Under `cpu-inline` its p99 and max grow to the length of
//!   the CPU phase; under `cpu-spawn-blocking` and `cpu-rayon` they stay near the scheduling
//!   noise. Each offloaded row must show a p99 at most 1/[`measure::check::FACTOR`] of
//!   `cpu-inline`'s from the same run, or it is wrong; compared when `cpu-inline` ran and the
//!   sizes make it hold every worker for [`measure::check::STALL_FLOOR`] or more.
//! - The note's thread count: `cpu-inline` computes on the runtime's own workers, `cpu-rayon`
//!   on the pool's threads, `cpu-spawn-blocking` on blocking-pool threads, a semaphore letting
//!   at most `--workers` of them compute at once.
//! - Every answer is checked against the closed form of the sum.
//!
//! # Running it
//!
//! ```text
//! cargo run --release -p async-mixed
//! cargo run --release -p async-mixed -- --variant cpu-inline --variant cpu-rayon --json
//! python3 examples/python/async_mixed.py
//! ```
//!
//! Benchmark figures are in `docs/results.md`.
//!
//! # The steps, in reading order
//!
//! 1. [`steps::s1_io_gather`]: many requests in flight at once, gathered from a `JoinSet`.
//! 2. [`steps::s2_cpu_inline`]: a CPU step after each request, on the runtime: stalls it.
//! 3. [`steps::s3_spawn_blocking`]: the CPU step on tokio's blocking pool, bounded.
//! 4. [`steps::s4_rayon`]: the CPU step on a rayon pool, its answer through a oneshot.
//!
//! Then [`measure`] runs each beside a heartbeat against a slow local service, and [`verdict`]
//! says what the numbers mean.

pub mod steps;

pub mod measure;
pub mod verdict;

/// The lesson's name, as its binary and its JSON rows spell it.
pub const LESSON: &str = "async-mixed";
