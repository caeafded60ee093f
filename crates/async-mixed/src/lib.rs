//! Many concurrent I/O waits on one `tokio` runtime, and the CPU-bound work kept off it: the
//! Rust answer to `asyncio.gather` and `loop.run_in_executor`. A task gives its worker thread
//! back only at an `.await`, so CPU work between two `.await`s holds up every other task on that
//! worker, timers and sockets included, until it is handed to threads of its own
//! (`spawn_blocking`, a `rayon` pool) and awaited from there.
//!
//! # The steps, in reading order
//!
//! 1. [`steps::s1_io_gather`]: many requests in flight at once, gathered from a `JoinSet`.
//! 2. [`steps::s2_cpu_inline`]: a CPU step after each request, on the runtime: stalls it.
//! 3. [`steps::s3_spawn_blocking`]: the CPU step on tokio's blocking pool, bounded.
//! 4. [`steps::s4_rayon`]: the CPU step on a rayon pool, its answer through a oneshot.
//! 5. [`steps::s5_wait_tasks`]: waits alone, many tasks asleep on timers at once.
//! 6. [`steps::s6_wait_threads`]: the same waits as OS threads: what each one costs.
//!
//! Then [`measure`] runs steps 1 to 4 beside a heartbeat against a slow local service, and steps
//! 5 and 6 with the process's peak memory, and [`verdict`] says what the numbers mean.
//!
//! Read: `book/src/async-mixed.md` (the chapter: the Python original, each step, the figures).
//! Copy: `examples/async_mixed.rs` (step 3 in one file, a timer standing in for the request).
//! Run: `cargo run --release -p async-mixed`.

pub mod steps;

pub mod measure;
pub mod verdict;

/// The lesson's name, as its binary and its JSON rows spell it.
pub const LESSON: &str = "async-mixed";
