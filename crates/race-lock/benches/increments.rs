//! One increment of each exact counter, with 1, 2 and 10 threads incrementing the same counter
//! at once: what a lock costs over an atomic, alone and under contention.
//!
//! Run with `cargo bench -p race-lock`. divan runs each benchmark's closure on every thread at
//! once against the one counter the function created, so the threads really contend; it reports
//! the time of one call as each thread saw it. Ten threads on two cores is the lesson's default
//! and the tutorial's: eight of them are waiting for a core at any moment.

use divan::Bencher;
use race_lock::{AtomicCounter, MutexCounter, RwCounter};

/// 1 = no contention; 2 = one per core; 10 = the tutorial's ten threads on two cores.
const THREADS: [usize; 3] = [1, 2, 10];

fn main() {
    divan::main();
}

/// `Mutex<u64>`: lock, add one, unlock.
#[divan::bench(threads = THREADS)]
fn mutex(bencher: Bencher<'_, '_>) {
    let counter = MutexCounter::new();
    bencher.bench(|| counter.increment());
}

/// `AtomicU64::fetch_add`: one instruction, no lock.
#[divan::bench(threads = THREADS)]
fn atomic(bencher: Bencher<'_, '_>) {
    let counter = AtomicCounter::new();
    bencher.bench(|| counter.increment());
}

/// `RwLock<(u64, u64)>`: write-lock, add one to both, unlock (every call a writer: the
/// lock's worst case, to compare with the mutex).
#[divan::bench(threads = THREADS)]
fn rwlock_write(bencher: Bencher<'_, '_>) {
    let counter = RwCounter::new();
    bencher.bench(|| counter.increment());
}

/// `RwLock<(u64, u64)>`: read-lock, copy both, unlock (every call a reader: readers share).
#[divan::bench(threads = THREADS)]
fn rwlock_read(bencher: Bencher<'_, '_>) {
    let counter = RwCounter::new();
    bencher.bench(|| counter.read());
}
