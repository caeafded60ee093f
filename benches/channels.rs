//! Channel throughput between threads: `std::sync::mpsc` against `crossbeam-channel`, bounded
//! and unbounded, with one to four producers and one consumer.
//!
//! Each run sends [`MESSAGES`] `u64`s in all and the consumer sums them (checked against the
//! closed form, so the compiler cannot drop the work). `cargo bench --bench channels`, or
//! `just bench` for every benchmark.
//!
//! What it shows: with one consumer neither wins consistently, because since Rust 1.67
//! `std::sync::mpsc` *is* crossbeam's channel code. Medians of one run on a 2-vCPU machine
//! (Intel Xeon, load average about 1.3), million messages/s; runs vary by up to 2x:
//!
//! | producers | std unbounded | std bounded | crossbeam unbounded | crossbeam bounded |
//! |---:|---:|---:|---:|---:|
//! | 1 | 28.2 | 28.9 | 20.3 | 31.5 |
//! | 2 | 21.5 | 58.6 | 27.4 | 35.2 |
//! | 4 | 14.3 | 55.2 | 26.8 | 16.7 |
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
/// Every channel measured, each with one to four producers.
const CASES: &[Case] = &[
    Case(Kind::StdUnbounded, 1),
    Case(Kind::StdUnbounded, 2),
    Case(Kind::StdUnbounded, 4),
    Case(Kind::StdBounded, 1),
    Case(Kind::StdBounded, 2),
    Case(Kind::StdBounded, 4),
    Case(Kind::CrossbeamUnbounded, 1),
    Case(Kind::CrossbeamUnbounded, 2),
    Case(Kind::CrossbeamUnbounded, 4),
    Case(Kind::CrossbeamBounded, 1),
    Case(Kind::CrossbeamBounded, 2),
    Case(Kind::CrossbeamBounded, 4),
];

#[derive(Debug, Clone, Copy)]
enum Kind {
    StdUnbounded,
    StdBounded,
    CrossbeamUnbounded,
    CrossbeamBounded,
}

/// A channel kind and how many producers send into it.
#[derive(Debug, Clone, Copy)]
struct Case(Kind, u64);

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}, {} producers", self.0, self.1)
    }
}

fn main() {
    divan::main();
}

#[divan::bench(args = CASES)]
fn channel(bencher: Bencher<'_, '_>, case: Case) {
    let Case(kind, producers) = case;
    bencher
        .counter(ItemsCount::new(MESSAGES))
        .bench(|| match kind {
            Kind::StdUnbounded => {
                let (tx, rx) = mpsc::channel::<u64>();
                run(
                    producers,
                    move |i| tx.send(i).is_ok(),
                    move || rx.iter().sum(),
                )
            }
            Kind::StdBounded => {
                let (tx, rx) = mpsc::sync_channel::<u64>(CAPACITY);
                run(
                    producers,
                    move |i| tx.send(i).is_ok(),
                    move || rx.iter().sum(),
                )
            }
            Kind::CrossbeamUnbounded => {
                let (tx, rx) = crossbeam_channel::unbounded::<u64>();
                run(
                    producers,
                    move |i| tx.send(i).is_ok(),
                    move || rx.iter().sum(),
                )
            }
            Kind::CrossbeamBounded => {
                let (tx, rx) = crossbeam_channel::bounded::<u64>(CAPACITY);
                run(
                    producers,
                    move |i| tx.send(i).is_ok(),
                    move || rx.iter().sum(),
                )
            }
        });
}

/// Sends `MESSAGES` over `producers` threads through clones of `send`, receives them all
/// with `recv`, and checks the sum against the closed form.
fn run(producers: u64, send: impl Fn(u64) -> bool + Clone + Send, recv: impl FnOnce() -> u64) {
    let per = MESSAGES / producers;
    let total = thread::scope(|s| {
        for p in 0..producers {
            let send = send.clone();
            s.spawn(move || {
                for i in p * per..(p + 1) * per {
                    assert!(send(i), "the receiver outlives the senders");
                }
            });
        }
        // The original sender goes here, so the channel closes once every clone has.
        drop(send);
        recv()
    });
    let n = per * producers;
    assert_eq!(total, n * (n - 1) / 2, "every message arrives exactly once");
}
