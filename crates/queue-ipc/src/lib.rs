//! Passing data between processes (this program re-executed as a child, and its parent): a typed
//! channel, a pipe carrying length-prefixed frames, and shared memory holding a counter and an
//! array, each checked to the last message, increment and element. Python's
//! `multiprocessing.Queue`, `Pipe`, `Value` and `Array`, with no child and no segment left behind.
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
//! 8. [`steps::s8_shm_ring`]: messages through a ring of slots in shared memory.
//!
//! What the steps share: [`process`] starts a child and reaps it on every way out, [`shm`] makes
//! a segment that has no name, [`shm_lock`], [`shm_gate`] and [`shm_bell`] put a lock, a
//! starting gun and a wait without spinning in it, and [`worker`] is what a child runs. Then [`measure`] times each step and [`verdict`]
//! says what the numbers mean.
//!
//! Read: `book/src/queue-ipc.md` (the chapter: the Python original, each step, the figures).
//! Copy: `examples/queue_ipc.rs` (step 2's framed pipe, standard library only) and
//! `examples/shared_memory.rs` (steps 6 and 7: a counter and an array in shared memory).
//! Run: `cargo run --release -p queue-ipc`.

pub mod steps;

pub mod measure;
pub mod process;
pub mod shm;
pub mod shm_bell;
pub mod shm_gate;
pub mod shm_lock;
pub mod verdict;
pub mod worker;

/// The lesson's name, as its binary, its rows and its segment names carry it.
pub const LESSON: &str = "queue-ipc";
