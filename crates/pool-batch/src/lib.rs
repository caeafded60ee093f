//! A worker pool: a fixed set of workers that map a function over more items than there are
//! cores, results in input order.
//!
//! The Python original is `multiprocessing.Pool(n).map(square, numbers)`, with `chunksize` to
//! send several items per message, and the tutorial's answer to "more tasks than cores": cut the
//! numbers into batches of `2 * cpu_count()` and run each batch in a fresh `with Pool() as p:`.
//! In Rust, threads run Python-free code in parallel (no GIL), so the pool is threads; the
//! [`process`] module shows the process pool too, where items cross a pipe as JSON. The pool is
//! built by hand on `crossbeam-channel` ([`pool::ThreadPool`]) so every step is visible, and
//! `rayon` is the yardstick it is measured against.
//!
//! What to watch in the output:
//! - `thread-pool` (one item a message) against `thread-pool-chunked`: every message costs two
//!   channel operations and, when a worker was idle, a wake-up; chunks share that cost.
//! - `batch-new-pool-each` against `batch-one-pool`: the tutorial's pool per batch pays a thread
//!   start and join per worker per batch, which dwarfs squaring eight numbers.
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
//! Dispatch cost per task (`cargo bench -p pool-batch --bench dispatch`, 2 vCPUs, 10 000
//! trivial tasks, median of one run on a loaded machine; read them as ratios):
//!
//! | pool | per task |
//! |---|---|
//! | `rayon` `par_iter().map().collect()` | FIGURES |
//! | this crate's pool, chunks of 1000 | FIGURES |
//! | this crate's pool, one item a message | FIGURES |
//! | `std::sync::mpsc` pool (`Mutex<Receiver>`, a boxed job per item) | FIGURES |
//!
//! Why the hand-built pool trails rayon: rayon sends no message per item at all. It splits the
//! slice in halves on the calling thread, pushes halves onto per-worker deques, and idle workers
//! *steal* halves, so an item costs a function call and a write into the output. Our pool sends
//! every item (or chunk) through one shared channel that every worker contends on, sends every
//! result back through a second one, and sleeps and wakes workers as the queue empties and fills.
//!
//! Run it: `cargo run --release -p pool-batch` (add `--json` for scripts, `--variant rayon` for
//! one variant, `--task work --work 2000` for heavier tasks).

pub mod pool;
pub mod process;
pub mod task;
pub mod variants;

pub use pool::{PoolError, TaskError, ThreadPool};
pub use process::{ProcessPool, WorkerCommand, exit_killing_workers, serve};
pub use task::{Job, Task};
pub use variants::{
    LESSON, Setup, batch_new_pool_each, batch_one_pool, process_pool, rayon, thread_pool,
    thread_pool_chunked,
};
