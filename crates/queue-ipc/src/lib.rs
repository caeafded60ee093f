//! Passing data between processes (this program re-executed as a child, and its parent): a typed
//! channel, a pipe carrying length-prefixed frames, and POSIX shared memory holding a counter
//! and an array, each checked to the last message, increment and element.
//!
//! # The Python original
//!
//! `multiprocessing.Queue` (pickled objects through a pipe and a feeder thread), `Pipe` (a
//! socket pair, one message per `send_bytes`), and a shared `Value`/`Array` (C values in shared
//! memory, with a lock). `examples/python/queue_ipc.py` runs them with the same flags, and
//! `just compare` pairs each with the Rust variant doing the same work the same way (`pipe` with
//! `pipe-per-message`, its batched twin with `pipe`, the locked `Value` with
//! `shm-counter-locked`).
//!
//! What differs in Rust: children are re-executed, as Python's "spawn" does (`fork` in a
//! multithreaded program is a trap, see [`process`]); messages are typed, not pickled; shared
//! memory is reached through atomics, so the compiler knows another process writes it, and a
//! shared counter needs no lock at all (`fetch_add`), which Python's `Value` cannot offer. A
//! segment ([`shm`]) is a nameless `O_TMPFILE` file in `/dev/shm` handed to each child as its
//! stdin, so no `kill -9` can leave it behind; the lock ([`shm_lock`]) is a robust mutex, which
//! a child killed while holding it does not wedge.
//!
//! # What to watch for
//!
//! - `pipe` against `pipe-per-message`: one system call per 64 KiB buffer against one per
//!   message (as `ipc-channel` makes too), and the latency the buffering costs.
//! - `pipe-tuned` against `pipe`: the same bytes on the wire, less work per frame.
//! - The counters' exact totals, lock-free against locked, and the parent's read of the shared
//!   array as a fraction of a `memcpy` of the same size.
//! - Kill a child (`kill -9 <pid>`): the run says how many messages of how many arrived, exit 1;
//!   Ctrl-C ends the children, exit 130; neither leaves a child or any shared memory behind.
//!
//! # Running it
//!
//! ```text
//! cargo run --release -p queue-ipc
//! cargo run --release -p queue-ipc -- --variant pipe --bytes 65536 --messages 20000
//! cargo run --release --example queue_ipc
//! cargo run --release --example shared_memory
//! ```
//!
//! The examples are the copyable versions of step 2 and of steps 6 and 7. Benchmark figures
//! (`cargo bench -p queue-ipc`, `just compare`) are in `docs/results.md`.
//!
//! # The steps, in reading order
//!
//! 1. [`steps::s1_channel`]: typed messages through `ipc-channel` (the `Queue`).
//! 2. [`steps::s2_pipe`]: frames through a pipe with `BufWriter`/`read_exact` (the `Pipe`).
//! 3. [`steps::s3_frame_buffers`]: frames built and decoded in place in one buffer per end.
//! 4. [`steps::s4_tuned_pipe`]: step 2's pipe on step 3's buffers, one frame in 16 timed.
//! 5. [`steps::s5_locked_counter`]: a counter and a lock in shared memory (the `Value`).
//! 6. [`steps::s6_atomic_counter`]: the same counter with `fetch_add` and no lock.
//! 7. [`steps::s7_shared_array`]: an array in shared memory filled by a child (the `Array`).
//!
//! Then [`measure`] times each step and [`verdict`] says what the numbers mean; [`worker`] is
//! what a child runs.

pub mod steps;

pub mod measure;
pub mod process;
pub mod shm;
pub mod shm_gate;
pub mod shm_lock;
pub mod verdict;
pub mod worker;

/// The lesson's name, as its binary, its rows and its segment names carry it.
pub const LESSON: &str = "queue-ipc";
