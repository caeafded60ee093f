//! Lost updates: ten threads adding to one counter lose some of their additions unless the read
//! and the write happen as one step, and here is every standard way to make them one.
//!
//! # The Python original
//!
//! The tutorial starts ten `threading.Thread`s that each run `counter += 1` in a loop, says the
//! total comes out short, and fixes it with `with lock: counter += 1`; then it shows
//! `threading.Semaphore` and `threading.Condition`. CPython switches threads only at calls and
//! backward jumps, so its `+= 1` rarely loses anything; put a call between the read and the
//! write (`counter = add_one(counter)`) and it loses many. `examples/python/race_lock.py` runs
//! both and the `Lock`, and `just compare` shows them beside this lesson.
//!
//! Rust differs in two ways. The tutorial's program does not compile (step 0): the compiler
//! rejects a data race outright, so the shared counter must be a type made for sharing (an
//! atomic, a `Mutex`). And there is no interpreter lock: threads run truly in parallel, and the
//! kernel may stop one between any two instructions, so a read-then-write (step 1: safe Rust,
//! an atomic load, a short pause standing for real work, then a separate store) loses a large
//! share of its updates.
//!
//! # What to watch for
//!
//! - `racy` loses updates, a different number each run: its row says `broken, as meant`, and
//!   the verdict how many were lost.
//! - `mutex`, `atomic`, `rwlock` are exact; `atomic` is the fastest, since nothing waits.
//!   p50/p99/max are the waits to take a lock (one in [`measure::SAMPLE_EVERY`] timed): p50 is
//!   little more than reading the clock; max, often milliseconds, is a wait for a holder the
//!   kernel descheduled. `rwlock` checks its writes, 1 in 10 of its operations.
//! - `semaphore`: `max_in_flight` never passes `--permits`, and the rate stays under
//!   `permits / HOLD` however many threads there are.
//! - `condvar`: every item arrives exactly once (count, sum and sum of squares checked).
//!
//! # Running it
//!
//! ```text
//! cargo run --release -p race-lock
//! cargo run --release -p race-lock -- --variant racy --increments 1000000 --json
//! RUSTFLAGS="--cfg loom" cargo test --release -p race-lock --lib --target-dir target/loom -- loom
//! ```
//!
//! The last runs the `loom` model checks (every interleaving of small cases): the mutex, atomic
//! and rwlock counters never lose an update, the semaphore never admits more than its permits,
//! the buffer delivers each item once, and the racy counter's lost update is found (that model
//! is `#[should_panic]`). Benchmark figures (`cargo bench -p race-lock`) are in
//! `docs/results.md`.
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
//! Then [`measure`] times each step and [`verdict`] says what the numbers mean.

pub mod steps;

pub mod measure;
mod sync;
pub mod verdict;

/// The lesson's name, as its binary and its JSON rows spell it.
pub const LESSON: &str = "race-lock";
