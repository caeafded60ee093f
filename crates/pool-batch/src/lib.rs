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
//! order; medians of one run on 2 vCPUs with a load average of 0.35. The machine is a VM and
//! rayon's own median moved between 1.9 and 5.3 ns per task from one run to the next, so read
//! the ratios as rough:
//!
//! | pool | per task | against rayon |
//! |---|---|---|
//! | `rayon`, `par_iter().map().collect()` | 1.9 ns | 1x |
//! | this crate's [`ThreadPool::map_chunked`], chunks of 1000 | 6.4 ns | 3.4x |
//! | this crate's [`ThreadPool::map`], one item a message | 42 ns | 22x |
//! | the textbook `std::sync::mpsc` pool (`Mutex<Receiver>`, a boxed job per item) | 367 ns | 196x |
//!
//! The pool as it was before the changes below, benchmarked just before on the same machine:
//! 11.1 ns per task chunked and 117 ns one item a message (rayon 5.3 ns in that run). In the
//! lesson's binary (a million items, `square`, best of 7 runs of each build, same machine):
//! `thread-pool` went from 6.3–7.3 M/s to 10.7–10.8 M/s, and `thread-pool-chunked` from
//! 0.36–0.39x of rayon's rate to 0.60–0.74x.
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
//!
//! What is left, and why rayon is still ahead:
//! - The output. Rayon's `collect` writes each result straight into its place in the output,
//!   from every worker at once, so the page faults of the output's first touch (32 MB for a
//!   million `Result<u64, TaskError>`) are shared by both cores. Our workers are threads that
//!   outlive any one map, so handing them a slice of the caller's output would take `unsafe`
//!   code that erases the borrow's lifetime (rayon's way); this lesson keeps to safe code, so
//!   the calling thread appends every chunk's results in order, alone. That serial stage, one
//!   copy per result plus every page fault of the output, caps a million-item map at about
//!   half of rayon's rate on two cores.
//! - The fixed cost of a map. Ten chunks of 1000 are a short map: most of its time is waking
//!   the parked workers for it, and the calling thread parking and being woken as chunks come
//!   back, tens of microseconds each time on this VM. Rayon's idle workers spin for a while
//!   before they sleep, so a map that follows another finds them awake.
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
pub use process::{ProcessPool, WorkerCommand, exit_killing_workers, serve};
pub use task::{Job, Task};
pub use variants::{
    LESSON, Setup, batch_new_pool_each, batch_one_pool, process_pool, rayon, thread_pool,
    thread_pool_chunked,
};
pub use verdict::verdicts;
