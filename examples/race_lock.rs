//! Ten threads add to one counter: a read-then-write loses updates, a `Mutex` and an atomic
//! `fetch_add` keep every one. The core of `crates/race-lock`, in one file you can copy.
//!
//! The Python tutorial's `counter += 1` from ten threads does not compile in Rust (ten threads
//! cannot each hold the only `&mut` to one integer), so the racy step here is written the only
//! way safe Rust allows: an atomic load, then a separate store. Watch its total come out short
//! while the other two are exact.
//!
//! Run: `cargo run --release --example race_lock`
//!
//! Dependencies: none, the standard library only; nothing is needed under `[dependencies]`:
//! ```toml
//! [dependencies]
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::thread;
use std::time::Instant;

const THREADS: u64 = 10;
const INCREMENTS: u64 = 200_000;

/// Runs `THREADS` threads that each call `increment` `INCREMENTS` times, all starting together
/// (a `Barrier`, so they overlap instead of finishing one by one as they are spawned).
fn hammer(name: &str, increment: impl Fn() + Sync, total: impl Fn() -> u64) {
    let start = Barrier::new(THREADS as usize);
    let clock = Instant::now();
    // Scoped threads may borrow `increment`; the scope joins them all before returning, and a
    // panic in any of them is re-raised here rather than lost.
    thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                start.wait();
                for _ in 0..INCREMENTS {
                    increment();
                }
            });
        }
    });
    let took = clock.elapsed();
    let expected = THREADS * INCREMENTS;
    let got = total();
    println!(
        "{name:<7} {got:>9} of {expected} ({} lost) in {took:.2?}",
        expected - got
    );
}

fn main() {
    // 1. Racy, deliberately: read, (a gap), write. Another thread's store can land in the gap
    //    and is then overwritten. Relaxed is not the bug; the two separate steps are.
    let racy = AtomicU64::new(0);
    hammer(
        "racy",
        || {
            let seen = racy.load(Ordering::Relaxed);
            // Stands for the work between read and write in real code; without it the compiler
            // fuses the two into one `inc`, which loses only when two cores run at once.
            std::hint::spin_loop();
            racy.store(seen + 1, Ordering::Relaxed);
        },
        || racy.load(Ordering::Relaxed),
    );

    // 2. A Mutex owns the counter: the only way to reach the u64 is through the lock, so the
    //    read and the write happen with no other thread in between.
    let locked = Mutex::new(0u64);
    hammer(
        "mutex",
        // A poisoned lock means another increment panicked; propagating that panic is right.
        || *locked.lock().expect("no thread panics holding the lock") += 1,
        || *locked.lock().expect("no thread panics holding the lock"),
    );

    // 3. An atomic read-modify-write: one indivisible instruction, no lock, nothing waits.
    //    Relaxed suffices: the counter publishes no other data, and the final load comes after
    //    the threads are joined, which orders every increment before it.
    let atomic = AtomicU64::new(0);
    hammer(
        "atomic",
        || {
            atomic.fetch_add(1, Ordering::Relaxed);
        },
        || atomic.load(Ordering::Relaxed),
    );
}
