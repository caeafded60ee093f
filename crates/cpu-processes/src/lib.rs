//! CPU-bound work split over threads and over processes: the same tasks four ways, each result
//! checked against the closed form, each way timed against doing the tasks one after another,
//! with what every thread or process costs in memory.
//!
//! # The Python original
//!
//! The tutorials' `cpu_intensive_task(n)` sums `range(n)` in a loop, once per
//! `multiprocessing.Process`, and show that two *threads* doing the same take as long as one
//! (the GIL lets one thread run Python at a time) while two *processes* take half.
//! `examples/python/cpu_processes.py` runs all four ways, and `just compare` shows it beside
//! this lesson. Rust has no GIL: its threads run the loop on every core at once, so threads
//! scale like processes, without a second address space. Processes are still shown, both ways
//! Python starts them: `fork` (the child is a copy of the parent) and `spawn` (the program
//! re-executed as a worker).
//!
//! # What to watch for
//!
//! - `speedup` (sequential's wall time over the variant's) near the number of workers for all
//!   three parallel variants, and `efficiency` (speedup / workers) near 100 %. A run below 90 %
//!   is explained in the verdict by `cpus`, the CPU seconds it used over its wall seconds:
//!   fewer CPUs busy than workers means a worker waited for a CPU another process held.
//! - Memory: `parent` is this process's peak resident set during the run (`VmHWM`, set back
//!   before each run: see [`measure::memory`]); threads add only their stacks to it. `child` is
//!   the largest child's own peak, which each child reports before it exits: a forked child
//!   counts the pages it still shares with the parent, a re-executed one a whole program.
//! - A child that exits non-zero or is killed by a signal is reported by pid and cause and
//!   fails the run (exit status 1); Ctrl-C or SIGTERM kills and reaps every child first (130).
//! - Each variant runs `--rounds` times (default 3), interleaved with the others, and each row
//!   is its median run, with the range in the note.
//!
//! Benchmark figures (`cargo bench -p cpu-processes --bench start`: what a thread, a fork and a
//! re-executed worker cost to start) are in `docs/results.md`.
//!
//! # Running it
//!
//! ```text
//! cargo run --release -p cpu-processes
//! cargo run --release -p cpu-processes -- --variant fork --workers 4 --n 100000000 --json
//! ```
//!
//! # The steps, in reading order
//!
//! 1. [`steps::s1_sequential`]: the tasks one after another: the baseline.
//! 2. [`steps::s2_threads`]: one thread per task: no GIL, so they run at once.
//! 3. [`steps::s3_fork`]: one forked child per task, results back through a pipe.
//! 4. [`steps::s4_spawn`]: this program re-executed per task, results on the child's stdout.
//!
//! Then [`measure`] times each step and [`verdict`] says what the numbers mean. Keeping no
//! child behind (tracking each from its start, killing and reaping on Ctrl-C) is the shared
//! `reaper` crate's job; [`fault`] lets the tests make a child fail.

pub mod steps;

pub mod fault;
pub mod measure;
pub mod verdict;

/// The lesson's name, as its binary and its JSON rows spell it.
pub const LESSON: &str = "cpu-processes";
