//! Lost updates: ten threads adding to one counter lose some of their additions unless the read
//! and the write happen as one step, and here is every standard way to make them one.
//!
//! # The Python original
//!
//! The tutorial starts ten `threading.Thread`s that each run `counter += 1` in a loop, says the
//! total comes out short, and fixes it with `with lock: counter += 1`; then it shows
//! `threading.Semaphore` and `threading.Condition`. Run as written on CPython 3.11, the `+= 1`
//! version loses **no** update (0 lost in 60 trials of 10 × 1 000, and in 10 × 1 000 000): the
//! interpreter switches threads only at calls and backward jumps, and there is none between the
//! read and the write. Put a call in between (`counter = add_one(counter)`) and it loses about
//! half. `examples/python/race_lock.py` runs both and the `Lock`, and says so.
//!
//! Rust differs in two ways. The tutorial's program does not compile (below): the compiler
//! rejects a data race outright, so the shared counter must be a type made for sharing (an
//! atomic, a `Mutex`). And there is no interpreter lock: threads run truly in parallel, and the
//! kernel may stop one between any two instructions, so a read-then-write ([`RacyCounter`]:
//! safe Rust, an atomic load, a short pause standing for the work real code does there, then a
//! separate store) loses a large share of its updates on every run. Without the pause the
//! compiler fuses the load and the store into one `inc` instruction: two cores running at once
//! still lose updates with it, but threads taking turns on one busy core lose none, which is
//! CPython's `+= 1` story again.
//!
//! ```compile_fail,E0499
//! // The tutorial's program, translated word for word: ten threads, one plain integer.
//! let mut counter = 0u64;
//! std::thread::scope(|s| {
//!     for _ in 0..10 {
//!         s.spawn(|| {
//!             for _ in 0..1000 {
//!                 counter += 1;
//!             }
//!         });
//!     }
//! });
//! ```
//!
//! The compiler says "cannot borrow `counter` as mutable more than once at a time" (E0499):
//! `counter += 1` needs a `&mut u64`, which Rust guarantees is the *only* way to reach that
//! integer while it lives, and ten threads running at once cannot each hold the only one. A
//! data race needs two threads with access to the same place and at least one writing without
//! synchronisation; `&mut` (one writer) or `&` (many readers) rules that out before the program
//! runs. (`move` closures would compile, but each thread would then count its own copy.)
//! The global that Python uses fares no better:
//!
//! ```compile_fail,E0133
//! static mut COUNTER: u64 = 0;
//! std::thread::spawn(|| COUNTER += 1);
//! ```
//!
//! "use of mutable static is unsafe" (E0133): any thread may touch a `static mut`, so the
//! compiler cannot prove accesses are not racing and leaves it to an `unsafe` block, where this
//! code would be undefined behaviour. The way out is a type that can be mutated through a shared
//! reference because it synchronises inside: [`MutexCounter`], [`AtomicCounter`].
//!
//! The variants, each a step from the last: [`racy()`] (read, then write: deliberately broken),
//! [`mutex()`], [`atomic()`], [`rwlock()`] (read-mostly, two counts kept equal), [`semaphore()`]
//! (a counting semaphore built from `Mutex` + `Condvar`, at most K at once) and [`condvar()`] (a
//! bounded buffer between producers and consumers).
//!
//! # What to watch for
//!
//! - `racy` loses a large share of its updates, often half: the table says `broken, as meant:
//!   974 905 of 2 000 000`, and the verdict how many were lost. The count varies from run to run.
//! - `mutex`, `atomic`, `rwlock` are exact. `atomic` is faster than `mutex` since nothing waits;
//!   by how much depends on the machine's mood (from 1.2x with the other core busy to several
//!   times with both free). The p50/p99/max columns are the waits to take a lock (one in
//!   [`SAMPLE_EVERY`] timed): p50 is little more than reading the clock, and max, often
//!   milliseconds, is a wait for a holder the kernel descheduled while every waiter slept.
//! - `semaphore`: `max_in_flight` never passes `--permits`, and the rate stays under
//!   `permits / HOLD` (30 k/s with the defaults; a 100 µs sleep overshoots, so about half that)
//!   however many threads there are.
//! - `condvar`: every item arrives exactly once (count, sum and sum of squares checked).
//!
//! # Running it
//!
//! ```text
//! cargo run --release -p race-lock
//! cargo run --release -p race-lock -- --variant racy --increments 1000000
//! cargo run --release -p race-lock -- --json
//! ```
//!
//! The model checks (every interleaving of small cases, with `loom`), in their own target
//! directory so they do not rebuild the main one:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test --release -p race-lock --lib --target-dir target/loom -- loom
//! ```
//!
//! They prove the mutex, atomic and rwlock counters never lose an update, the semaphore never
//! admits more than its permits and the buffer delivers each item once; and they find the racy
//! counter's lost update (that model is `#[should_panic]`: it is meant to fail).
//!
//! # Benchmarks
//!
//! `cargo bench -p race-lock` (`benches/increments.rs`, divan) starts 1, 2 or 10 threads
//! together, each adding 200 000 to one shared counter, and reports increments per second.
//! Two runs a few minutes apart on 2 vCPUs, while other builds kept the machine busy (load
//! average 6 to 9 during run A, about 3 during run B); median of 30 samples, M increments/s:
//!
//! | threads | run | `atomic` | `mutex` | `rwlock`, all writes | `rwlock`, all reads |
//! |---:|:-:|---:|---:|---:|---:|
//! | 1 | A | 110 | 31.1 | 24.2 | 14.2 |
//! | 1 | B | 50.2 | 48.8 | 56.9 | 43.4 |
//! | 2 | A | 109 | 22.8 | 22.9 | 13.7 |
//! | 2 | B | 48.1 | 26.9 | 35.5 | 55.2 |
//! | 10 | A | 86.3 | 11.1 | 25.2 | 21.9 |
//! | 10 | B | 78.6 | 51.8 | 27.0 | 54.6 |
//!
//! The spread between runs is the machine's mood (how busy the other core is, how fast the
//! vCPUs run that minute), not the code: run it more than once before believing a figure. What
//! held in both runs: with 2 and 10 threads the atomic beat the mutex (run A: 4.8x and 7.8x;
//! run B: 1.8x and 1.5x), and the mutex did worse with two threads than with one (two cores
//! trade the lock's cache line on every increment, and a waiter that finds it taken sleeps in
//! the kernel). In run B, the quieter one, the fastest sample of every lock at any thread count
//! was 51 to 58 M/s (about 17 ns for an uncontended lock and unlock here), and of the atomic 66
//! to 154 M/s. With ten threads on two cores a thread often runs its whole 200 000 alone on its
//! core, so that row swings most.

mod atomic;
mod buffer;
mod condvar;
mod mutex;
mod racy;
mod rwlock;
mod semaphore;
mod sync;
mod verdict;
mod workers;

pub use atomic::{AtomicCounter, atomic};
pub use buffer::{BoundedBuffer, Closed};
pub use condvar::{Received, condvar};
pub use mutex::{MutexCounter, mutex};
pub use racy::{RacyCounter, racy};
pub use rwlock::{RwCounter, WRITE_EVERY, rwlock};
pub use semaphore::{HOLD, Permit, Semaphore, semaphore};
pub use verdict::add_verdicts;
pub use workers::{SAMPLE_EVERY, WorkerPanicked};

pub(crate) use workers::{join_all, merged, run_together, timed_wait};

/// The lesson's name, as its binary and its JSON rows spell it.
pub const LESSON: &str = "race-lock";
