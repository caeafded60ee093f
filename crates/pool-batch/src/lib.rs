//! A worker pool: a fixed set of workers maps a function over more items than there are cores,
//! results in input order; built by hand on `crossbeam-channel` so every part is visible, then
//! on worker processes, then used for batches the tutorial's way and the right way, with
//! `rayon` as the yardstick.
//!
//! # The Python original
//!
//! `multiprocessing.Pool(n).map(square, numbers)`, with `chunksize` to send several items per
//! message, and the tutorial's answer to "more tasks than cores": cut the numbers into batches
//! of `2 * cpu_count()` and open a fresh `with Pool() as pool:` for every batch.
//! `examples/python/pool_batch.py` runs them, on process pools and on thread pools, and
//! `just compare` pairs each row with the Rust row of the same mechanism. Rust has no GIL, so a
//! pool of threads runs tasks in parallel and needs no processes; the process pool is here to
//! compare like with like, and to show what crossing a process boundary costs.
//!
//! # What to watch for
//!
//! - `thread-pool` (one item a job) against `thread-pool-chunked`: every message costs channel
//!   operations and, when a worker was idle, a wake-up; chunks share that cost.
//! - `thread-pool-tuned` against `thread-pool-chunked`, and both against `rayon`: the verdict
//!   gives the ratios of their rates.
//! - `batch-new-pool-each` against `batch-one-pool` (threads), and the `process-batch-*` pair:
//!   a pool per batch pays a start and stop per worker per batch, which dwarfs the batch's work.
//! - `process-pool`: the same map across processes, every chunk crossing two pipes as text.
//! - the note's first figure, `overhead_ns` in JSON: worker time per task beyond the task's own
//!   sequential cost, `wall × workers / items − sequential / items`.
//!
//! A task that panics becomes `Err` for that item and the pool goes on (hidden `--panic-at N`);
//! a worker process that dies is replaced and its chunk retried once, item by item (hidden
//! `--kill-worker-at N`). Ctrl-C kills and reaps every worker process before the program exits.
//!
//! # Running it
//!
//! ```text
//! cargo run --release -p pool-batch
//! cargo run --release -p pool-batch -- --variant rayon --task work --work 2000 --json
//! cargo bench -p pool-batch --bench dispatch
//! ```
//!
//! The copyable version is `cargo run --release --example pool_batch`; the Python twin takes
//! the same flags. Benchmark figures are in `docs/results.md`.
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
//! Then [`measure`] times each step and [`verdict`] says what the numbers mean.

pub mod steps;

pub mod measure;
pub mod task;
pub mod verdict;
pub mod worker;

/// The lesson's name, as its binary and its JSON rows spell it.
pub const LESSON: &str = "pool-batch";
