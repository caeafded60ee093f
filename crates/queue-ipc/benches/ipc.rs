//! Benchmarks of the hot paths of `queue-ipc`: message throughput between two processes over the
//! framed pipe and over ipc-channel, and atomic increments in shared memory (across processes,
//! and in one process against a heap atomic, to show a shared mapping is ordinary memory).
//!
//! `cargo bench -p queue-ipc`. Each message benchmark spawns the real `queue-ipc` worker (cargo
//! builds it for benchmarks and says where, in `CARGO_BIN_EXE_queue-ipc`) and streams a whole run
//! per sample, so the process start (about a millisecond) is included in every sample.

use std::sync::atomic::{AtomicU64, Ordering};

use divan::Bencher;
use divan::counter::ItemsCount;
use queue_ipc::Worker;
use queue_ipc::shm::Segment;

/// Messages per sample: large enough that the process start is a small part of a sample.
const MESSAGES: u64 = 100_000;
/// Increments per child in the cross-process counter benchmark.
const INCREMENTS: u64 = 1_000_000;

fn main() {
    divan::main();
}

fn worker() -> Worker {
    Worker::program(env!("CARGO_BIN_EXE_queue-ipc"))
}

/// Small (64-byte payload) frames through the buffered pipe, child to parent.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn pipe_messages(bencher: Bencher<'_, '_>) {
    let worker = worker();
    bencher.counter(ItemsCount::new(MESSAGES)).bench(|| {
        let row = queue_ipc::pipe(&worker, MESSAGES, 64, None).expect("the pipe run works");
        assert!(row.correct, "{row:?}");
    });
}

/// Typed `serde` messages through ipc-channel, child to parent.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn ipc_channel_messages(bencher: Bencher<'_, '_>) {
    let worker = worker();
    bencher.counter(ItemsCount::new(MESSAGES)).bench(|| {
        let row = queue_ipc::ipc_channel(&worker, MESSAGES, None).expect("the channel run works");
        assert!(row.correct, "{row:?}");
    });
}

/// Two child processes incrementing one `AtomicU64` in a shared segment.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn shm_counter_two_processes(bencher: Bencher<'_, '_>) {
    let worker = worker();
    bencher.counter(ItemsCount::new(2 * INCREMENTS)).bench(|| {
        let row = queue_ipc::shm_counter(&worker, 2, INCREMENTS, None).expect("the counter works");
        assert!(row.correct, "{row:?}");
    });
}

/// One uncontended `fetch_add` on a word of a shared mapping, in this process.
#[divan::bench]
fn atomic_increment_in_shared_memory(bencher: Bencher<'_, '_>) {
    let name = format!("/queue-ipc-{}-bench", std::process::id());
    let mut segment = Segment::create(&name, 4096).expect("/dev/shm is writable");
    segment.unlink().expect("the name was just created");
    let word = &segment.words()[0];
    bencher
        .counter(ItemsCount::new(1u64))
        .bench(|| word.fetch_add(1, Ordering::Relaxed));
}

/// The same `fetch_add` on a heap atomic: the yardstick for the one above.
#[divan::bench]
fn atomic_increment_on_the_heap(bencher: Bencher<'_, '_>) {
    let word = Box::new(AtomicU64::new(0));
    bencher
        .counter(ItemsCount::new(1u64))
        .bench(|| word.fetch_add(1, Ordering::Relaxed));
}
