//! Channel throughput between threads: `std::sync::mpsc` against `crossbeam-channel`, bounded
//! and unbounded, with one to four producers and one consumer.
//!
//! Each run sends [`MESSAGES`] `u64`s in all and the consumer sums them (checked against the
//! closed form, so the compiler cannot drop the work). `cargo bench --bench channels`, or
//! `just bench` for every benchmark.
//!
//! What it shows: with one consumer the two are the same speed, because since Rust 1.67
//! `std::sync::mpsc` *is* crossbeam's channel code. Medians on a 2-vCPU machine (Intel Xeon,
//! load average about 5 from other builds, so the spread was wide), million messages/s:
//!
//! | producers | std unbounded | std bounded | crossbeam unbounded | crossbeam bounded |
//! |---:|---:|---:|---:|---:|
//! | 1 | 19.4 | 32.7 | 22.2 | 26.5 |
//! | 2 | 13.3 | 44.2 | 20.8 | 24.6 |
//! | 4 | 15.5 | 17.4 | 25.6 | 18.3 |
//!
//! Why the pools in `pool-batch` and `executor-completed` still use crossbeam: a pool has many
//! *consumers* (its workers) taking from one queue. A std `Receiver` cannot be cloned, so a std
//! pool must share it behind a `Mutex`, and the workers then queue for that lock; crossbeam's
//! receivers clone, and `select!` waits on several channels at once. `pool-batch`'s benchmark
//! measures exactly that difference.

use std::sync::mpsc;
use std::thread;

use divan::Bencher;
use divan::counter::ItemsCount;

/// Messages per run, across all producers.
const MESSAGES: u64 = 100_000;
/// Capacity of the bounded channels: enough to keep producers busy, small enough to apply
/// back-pressure.
const CAPACITY: usize = 1024;
/// Producer threads per run.
const PRODUCERS: &[u64] = &[1, 2, 4];

fn main() {
    divan::main();
}

/// Sends `MESSAGES` over `producers` threads through `send`, receives them all with `recv`,
/// and checks the sum against the closed form.
fn run<S: Clone + Send>(producers: u64, sender: S, send: fn(&S, u64), recv: impl FnOnce() -> u64) {
    let per = MESSAGES / producers;
    let total = thread::scope(|s| {
        for p in 0..producers {
            let sender = sender.clone();
            s.spawn(move || (p * per..(p + 1) * per).for_each(|i| send(&sender, i)));
        }
        // The original sender is dropped here, so the channel closes once every clone is.
        drop(sender);
        recv()
    });
    let n = per * producers;
    assert_eq!(total, n * (n - 1) / 2, "every message arrives exactly once");
}

#[divan::bench(args = PRODUCERS)]
fn std_mpsc_unbounded(bencher: Bencher<'_, '_>, producers: u64) {
    bencher.counter(ItemsCount::new(MESSAGES)).bench(|| {
        let (tx, rx) = mpsc::channel::<u64>();
        run(
            producers,
            tx,
            |tx, i| tx.send(i).expect("the receiver outlives the senders"),
            move || rx.iter().sum(),
        )
    });
}

#[divan::bench(args = PRODUCERS)]
fn std_mpsc_bounded(bencher: Bencher<'_, '_>, producers: u64) {
    bencher.counter(ItemsCount::new(MESSAGES)).bench(|| {
        let (tx, rx) = mpsc::sync_channel::<u64>(CAPACITY);
        run(
            producers,
            tx,
            |tx, i| tx.send(i).expect("the receiver outlives the senders"),
            move || rx.iter().sum(),
        )
    });
}

#[divan::bench(args = PRODUCERS)]
fn crossbeam_unbounded(bencher: Bencher<'_, '_>, producers: u64) {
    bencher.counter(ItemsCount::new(MESSAGES)).bench(|| {
        let (tx, rx) = crossbeam_channel::unbounded::<u64>();
        run(
            producers,
            tx,
            |tx, i| tx.send(i).expect("the receiver outlives the senders"),
            move || rx.iter().sum(),
        )
    });
}

#[divan::bench(args = PRODUCERS)]
fn crossbeam_bounded(bencher: Bencher<'_, '_>, producers: u64) {
    bencher.counter(ItemsCount::new(MESSAGES)).bench(|| {
        let (tx, rx) = crossbeam_channel::bounded::<u64>(CAPACITY);
        run(
            producers,
            tx,
            |tx, i| tx.send(i).expect("the receiver outlives the senders"),
            move || rx.iter().sum(),
        )
    });
}
