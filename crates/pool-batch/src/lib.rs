//! A worker pool: a fixed set of workers maps a function over more items than there are cores,
//! results in input order; built by hand on `crossbeam-channel` so every part is visible, then
//! on worker processes, then used for batches the tutorial's way and the right way, with
//! `rayon` as the yardstick.
//!
//! # The steps, in reading order
//!
//! 1. [`steps::s1_channel_pool`]: worker threads fed by one channel; `map`, one item a job.
//! 2. [`steps::s2_chunked`]: the same pool, `chunk` items a job (Python's `chunksize`).
//! 3. [`steps::s3_tuned_map`]: the chunked map tuned for dispatch cost.
//! 4. [`steps::s4_idle_spin`]: idle workers spin briefly before they sleep.
//! 5. [`steps::s5_worker_process`]: one worker process: this program re-executed, text over
//!    pipes.
//! 6. [`steps::s6_process_pool`]: a pool of worker processes; a dead one is replaced.
//! 7. [`steps::s7_batches`]: a new pool per batch beside one pool, on threads and processes.
//! 8. [`steps::s8_rayon`]: the yardstick, rayon's `par_iter`.
//!
//! Then [`measure`] times each step and [`verdict`] says what the numbers mean; [`task`] holds
//! the tasks and their closed forms, and [`worker`] is this program run as a worker process.
//!
//! Read: `book/src/pool-batch.md` (the chapter: the Python original, each step, the figures).
//! Copy: `examples/pool_batch.rs` (the thread pool, its chunked ordered `map`, and batches
//! both ways, in one file).
//! Run: `cargo run --release -p pool-batch`.

pub mod steps;

pub mod measure;
pub mod task;
pub mod verdict;
pub mod worker;

/// The lesson's name, as its binary and its JSON rows spell it.
pub const LESSON: &str = "pool-batch";
