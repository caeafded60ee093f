//! Increments of each exact counter by 1, 2 and 10 threads at once: what a lock costs over an
//! atomic, alone and under contention.
//!
//! Run with `cargo bench -p race-lock`. One iteration starts the threads together, lets each
//! add [`PER_THREAD`] to the one shared counter, and joins them; divan reports the time of an
//! iteration and the increments per second (`ItemsCount`). Ten threads on two cores is the
//! lesson's default and the tutorial's: eight of them wait for a core at any moment.
//!
//! Why whole runs and not divan's `threads` option (every thread calling one closure, timed per
//! call): its samples last microseconds, so on two cores each thread tends to finish a sample
//! before another starts, and the contention this benchmark exists to show never happens.

use std::sync::Barrier;
use std::thread;

use divan::Bencher;
use divan::counter::ItemsCount;
use race_lock::steps::s2_mutex::MutexCounter;
use race_lock::steps::s3_atomic::AtomicCounter;
use race_lock::steps::s4_rwlock::RwCounter;

/// 1 = no contention; 2 = one per core; 10 = the tutorial's ten threads on two cores.
const THREADS: [usize; 3] = [1, 2, 10];

/// Increments per thread per iteration: long enough (milliseconds, far more than starting
/// the threads) for them to overlap
/// and for the scheduler to switch among them, short enough for many samples.
const PER_THREAD: u64 = 200_000;

fn main() {
    divan::main();
}

/// Starts `threads` threads together, each calling `increment` [`PER_THREAD`] times; joins them.
fn hammer(threads: usize, increment: &(impl Fn() + Sync)) {
    let start = Barrier::new(threads);
    // A worker's panic re-raises here when the scope joins it: a benchmark should stop loudly.
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                start.wait();
                for _ in 0..PER_THREAD {
                    increment();
                }
            });
        }
    });
}

/// `Mutex<u64>`: lock, add one, unlock.
#[divan::bench(args = THREADS, sample_count = 30)]
fn mutex(bencher: Bencher<'_, '_>, threads: usize) {
    let counter = MutexCounter::new();
    bencher
        .counter(ItemsCount::new(threads as u64 * PER_THREAD))
        .bench(|| hammer(threads, &|| counter.increment()));
}

/// `AtomicU64::fetch_add`: one instruction, no lock.
#[divan::bench(args = THREADS, sample_count = 30)]
fn atomic(bencher: Bencher<'_, '_>, threads: usize) {
    let counter = AtomicCounter::new();
    bencher
        .counter(ItemsCount::new(threads as u64 * PER_THREAD))
        .bench(|| hammer(threads, &|| counter.increment()));
}

/// `RwLock<(u64, u64)>`, every call a writer: the lock's worst case, beside the mutex.
#[divan::bench(args = THREADS, sample_count = 30)]
fn rwlock_write(bencher: Bencher<'_, '_>, threads: usize) {
    let counter = RwCounter::new();
    bencher
        .counter(ItemsCount::new(threads as u64 * PER_THREAD))
        .bench(|| hammer(threads, &|| counter.increment()));
}

/// `RwLock<(u64, u64)>`, every call a reader: readers share the lock, but still write its
/// reader count, so they contend on its cache line.
#[divan::bench(args = THREADS, sample_count = 30)]
fn rwlock_read(bencher: Bencher<'_, '_>, threads: usize) {
    let counter = RwCounter::new();
    bencher
        .counter(ItemsCount::new(threads as u64 * PER_THREAD))
        .bench(|| {
            hammer(threads, &|| {
                divan::black_box(counter.read());
            })
        });
}
