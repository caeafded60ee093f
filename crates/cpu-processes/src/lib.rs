//! CPU-bound work split over threads and over processes: the tutorial's `cpu_intensive_task(n)`
//! run once per worker, four ways, each result checked against the closed form and each way
//! timed against running the tasks one after another, with what every thread or process costs
//! in memory. Rust has no GIL, so threads scale like processes; processes show what a second
//! address space costs, started both ways Python starts them (`fork` and `spawn`).
//!
//! # The steps, in reading order
//!
//! 1. [`steps::s1_sequential`]: the tasks one after another: the baseline.
//! 2. [`steps::s2_threads`]: one thread per task: no GIL, so they run at once.
//! 3. [`steps::s3_fork`]: one forked child per task, results back through a pipe, all reaped.
//! 4. [`steps::s4_spawn`]: this program re-executed per task, results on the child's stdout.
//!
//! Then [`measure`] times each step and [`verdict`] says what the numbers mean. Keeping no
//! child behind on Ctrl-C is the shared `reaper` crate's job; [`fault`] lets the tests make a
//! child fail.
//!
//! Read: `book/src/cpu-processes.md` (the chapter: the Python original, each step, the figures).
//! Copy: `examples/cpu_processes.rs` (sequential, threads and re-executed workers, std only).
//! Run: `cargo run --release -p cpu-processes`.

pub mod steps;

pub mod fault;
pub mod measure;
pub mod verdict;

/// The lesson's name, as its binary and its JSON rows spell it.
pub const LESSON: &str = "cpu-processes";
