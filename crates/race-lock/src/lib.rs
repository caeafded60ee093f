//! Lost updates: ten threads adding to one counter lose some of their additions unless the read
//! and the write happen as one step, and here is every standard way to make them one. The
//! tutorial's `counter += 1` does not even compile in Rust; a read-then-write that does loses
//! updates; a `Mutex`, an atomic and an `RwLock` keep every one; a semaphore and a bounded
//! buffer show the waiting side of locking.
//!
//! # The steps, in reading order
//!
//! 0. [`steps::s0_does_not_compile`]: the tutorial's program, and the compiler's two refusals.
//! 1. [`steps::s1_racy`]: an atomic load, then a separate store: loses updates.
//! 2. [`steps::s2_mutex`]: the counter inside a `Mutex`.
//! 3. [`steps::s3_atomic`]: `fetch_add`, no lock at all.
//! 4. [`steps::s4_rwlock`]: two counts behind a `RwLock`, read by many at once.
//! 5. [`steps::s5_semaphore`]: a counting semaphore from a `Mutex` and a `Condvar`.
//! 6. [`steps::s6_bounded_buffer`]: a bounded buffer with two `Condvar`s.
//! 7. [`steps::s7_producers_consumers`]: producers and consumers through that buffer.
//!
//! Then [`measure`] times each step and [`verdict`] says what the numbers mean; `sync` switches
//! the steps' types to `loom`'s for the model checks (`just loom`).
//!
//! Read: `book/src/race-lock.md` (the chapter: the Python original, each step, the figures).
//! Copy: `examples/race_lock.rs` (the racy counter, the `Mutex` and the atomic in one file).
//! Run: `cargo run --release -p race-lock`.

pub mod steps;

pub mod measure;
mod sync;
pub mod verdict;

/// The lesson's name, as its binary and its JSON rows spell it.
pub const LESSON: &str = "race-lock";
