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
//! - `thread-pool` (one item a message) against `thread-pool-chunked`: every message costs two
//!   channel operations and, when a worker was idle, a wake-up; chunks share that cost.
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
//! ## What one dispatch costs, and why rayon is ahead
//!
//! `cargo bench -p pool-batch --bench dispatch` maps 10 000 trivial tasks (`x * 2`) in input
//! order; medians of one run on 2 vCPUs, on a machine busy with other builds (read the ratios):
//!
//! | pool | per task | against rayon |
//! |---|---|---|
//! | `rayon`, `par_iter().map().collect()` | 2.8 ns | 1x |
//! | this crate's [`ThreadPool::map_chunked`], chunks of 1000 | 7.4 ns | 2.6x |
//! | this crate's [`ThreadPool::map`], one item a message | 101 ns | 36x |
//! | the textbook `std::sync::mpsc` pool (`Mutex<Receiver>`, a boxed job per item) | 208 ns | 74x |
//!
//! So the hand-built pool trails rayon by about 2.6x per task when it sends chunks, and by 36x
//! when it sends one item a message. Why: rayon sends no message per item at all. It splits
//! the slice in halves, keeps the halves on per-worker deques, and an idle worker *steals* a
//! half from a busy one; an item costs a function call and a write into the output, and work
//! moves between threads only when a thread runs dry. Our pool sends every item (or chunk)
//! through one channel that every worker contends on, sends every result back through a
//! second one, copies each chunk into its own `Vec`, parks workers when the queue runs empty
//! and wakes them when it fills, and puts the results back in order on the calling thread.
//! Chunking shares those costs among 1000 items, which is why it closes most of the gap; the
//! `mpsc` pool pays a lock around the one receiver and an allocation per item on top.

mod check;
pub mod pool;
pub mod process;
mod results;
pub mod task;
pub mod variants;
mod verdict;

pub use pool::{PoolError, TaskError, ThreadPool};
pub use process::{ProcessPool, WorkerCommand, exit_killing_workers, serve};
pub use task::{Job, Task};
pub use variants::{
    LESSON, Setup, batch_new_pool_each, batch_one_pool, process_pool, rayon, thread_pool,
    thread_pool_chunked,
};
pub use verdict::verdicts;
