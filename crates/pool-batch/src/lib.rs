//! A worker pool: a fixed set of workers that map a function over more items than there are
//! cores, results in input order.
//!
//! The Python original is `multiprocessing.Pool(n).map(square, numbers)`, with `chunksize` to
//! send several items per message, and the tutorial's answer to "more tasks than cores": cut the
//! numbers into batches of `2 * cpu_count()` and run each batch in a fresh `with Pool() as p:`.
//! Rust has no GIL, so threads run tasks in parallel and the pool can be threads; the
//! [`process`] module shows the process pool too, where items cross a pipe as JSON. The pool is
//! built by hand on `crossbeam-channel` ([`pool::ThreadPool`]) so every step is visible, and
//! `rayon` is the yardstick it is measured against.
//!
//! What to watch in the output:
//! - `thread-pool` (one item a message) against `thread-pool-chunked`: every message costs a
//!   channel operation and, when a worker was idle, a wake-up; chunks share that cost.
//! - `batch-new-pool-each` against `batch-one-pool`: the tutorial's pool per batch pays a thread
//!   start and join per worker per batch, which dwarfs squaring the batch's few numbers.
//! - `thread-pool-chunked` against `rayon`: the verdict gives the ratio of their rates.
//! - the `overhead_ns` field (the note's first figure): worker time per task beyond the task's
//!   own sequential cost, `wall × workers / items − sequential / items`.
//! - `process-pool`: the same map across processes, paying JSON and pipes for every chunk.
//!
//! Faults: a task that panics becomes `Err` for that item and the pool goes on (hidden
//! `--panic-at N`); a worker process that dies is replaced and its chunk retried once, item by
//! item, and an item that kills a worker again is reported failed (hidden `--kill-worker-at N`;
//! see [`process`]). Ctrl-C kills and reaps every worker process before the program exits.
//!
//! Run it: `cargo run --release -p pool-batch` (add `--json` for scripts, `--variant rayon` for
//! one variant, `--task work --work 2000` for heavier tasks). The copyable version is
//! `cargo run --release --example pool_batch`; the Python twin is
//! `python3 examples/python/pool_batch.py` with the same flags.
//!
//! ## What one dispatch costs, and why rayon is still ahead
//!
//! `cargo bench -p pool-batch --bench dispatch` maps 10 000 trivial tasks (`x * 2`) in input
//! order; medians of one run on 2 vCPUs (a VM) with a load average of 0.9, mostly this crate's
//! own runs. Rayon's median moves between 1.9 and 5.3 ns per task from one run to the next on
//! this machine, so read the ratios as rough:
//!
//! | pool | per task | against rayon | before the changes below |
//! |---|---|---|---|
//! | `rayon`, `par_iter().map().collect()` | 2.1 ns | 1x | 2.6 ns |
//! | this crate's [`ThreadPool::map_chunked`], chunks of 1000 | 4.6 ns | 2.3x | 11.7 ns (4.5x) |
//! | this crate's [`ThreadPool::map`], one item a message | 72 ns | 35x | 121 ns (47x) |
//! | the textbook `std::sync::mpsc` pool (a boxed job per item) | 264 ns | 129x | 290 ns |
//!
//! The "before" column is the pool before these changes, benchmarked just before on the same
//! machine. In the lesson's binary (a million items, `square`, one full run of each build):
//! `thread-pool` went from 5.67 to 8.11 M/s and `thread-pool-chunked` from 43.2 to 49.0 M/s,
//! 0.48x and 0.47x of rayon's rate in those runs (rayon itself ran at 89 and 105 M/s). Best of
//! 7 runs of the three thread variants alone, the chunked map went from 0.37–0.45x of rayon's
//! rate to 0.63–0.69x. A million-item map is bound by the calling thread's serial stage (the
//! first point under "What is left"), which is why it gains less than the benchmark's short one.
//!
//! What made the pool slow, and what changed:
//! - One item a message paid two channel operations per item: the item out, and its result
//!   back, which also woke the calling thread per result. Each worker now keeps its answers
//!   and sends them in one message when the items run out.
//! - Every chunk allocated an input buffer and a result buffer. Allocation itself is cheap; the
//!   fresh memory is not: on this VM the first touch of a 4 KiB page costs about 2 µs, more
//!   than the pool's every other cost per item. A window of `4 × workers` chunks is in flight
//!   and their buffers go round again, so a handful of buffers serve the whole map.
//! - Results were put in order through a `Vec<Option<_>>` of empty slots, filled, then
//!   unwrapped: three passes over the whole output on the calling thread. Chunks are now
//!   appended (one `memcpy` each) as soon as they are next in order.
//! - A panic guard (`catch_unwind`) per item became one per chunk, re-entered after the item
//!   that panicked, so the task loop is a plain loop. The behaviour is the same: a panicking
//!   task is an `Err` for that item only.
//! - Idle workers slept as soon as the job queue ran dry, so every map began by waking them:
//!   tens of microseconds on this VM, more than the benchmark's whole map. They now poll the
//!   queue for 100 µs, yielding the CPU between polls, before they sleep (as rayon's do).
//!
//! What is left, and why rayon is still ahead:
//! - The output. Rayon's `collect` writes each result straight into its place in the output,
//!   from every worker at once, so the page faults of the output's first touch (32 MB for a
//!   million `Result<u64, TaskError>`) are shared by both cores. Our workers are threads that
//!   outlive any one map, so handing them a slice of the caller's output would take `unsafe`
//!   code that erases the borrow's lifetime (rayon's way); this lesson keeps to safe code, so
//!   the calling thread appends every chunk's results in order, alone. That serial stage, one
//!   copy per result plus every page fault of the output, holds a million-item map between
//!   about half and two thirds of rayon's rate on two cores (the runs above).
//! - The fixed cost of a map. Ten chunks of 1000 are a short map: three channels, two boxed
//!   drain jobs, and the calling thread parking and being woken as chunks come back. Rayon
//!   splits the work with no allocation and no message at all.
//! - One item a message still pays a channel operation per item, with every worker
//!   contending on the one queue. Rayon sends no message per item at all: it splits the slice
//!   in halves, keeps them on per-worker deques, and an idle worker *steals* a half from a
//!   busy one, so work moves between threads only when a thread runs dry.

mod check;
pub mod pool;
pub mod process;
mod results;
pub mod task;
pub mod variants;
mod verdict;

pub use pool::{PoolError, TaskError, ThreadPool};
pub use process::{ProcessPool, WorkerCommand, serve};
pub use task::{Job, Task};
pub use variants::{
    LESSON, Setup, batch_new_pool_each, batch_one_pool, process_pool, rayon, thread_pool,
    thread_pool_chunked,
};
pub use verdict::verdicts;
