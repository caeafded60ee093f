//! Benchmarks of the hot paths of `queue-ipc`: message throughput between two processes over the
//! pipe (plain and tuned), over ipc-channel and through a ring in shared memory, and atomic
//! increments in shared memory (across processes, and in one process against a heap atomic, to
//! show a shared mapping is ordinary memory).
//!
//! `cargo bench -p queue-ipc`. Each message benchmark runs a step whole, with the real
//! `queue-ipc` worker as its child (cargo builds it for benchmarks and says where, in
//! `CARGO_BIN_EXE_queue-ipc`), so the process start (about a millisecond) is included in every
//! sample.

use std::sync::atomic::{AtomicU64, Ordering};

use divan::Bencher;
use divan::counter::ItemsCount;
use queue_ipc::process::Worker;
use queue_ipc::shm::Segment;
use queue_ipc::steps::s2_pipe::Flush;
use queue_ipc::steps::{s1_channel, s2_pipe, s4_tuned_pipe, s6_atomic_counter, s8_shm_ring};

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

/// Small (64-byte payload) frames through step 2's buffered pipe, child to parent.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn pipe_messages(bencher: Bencher<'_, '_>) {
    let worker = worker();
    bencher.counter(ItemsCount::new(MESSAGES)).bench(|| {
        let streamed = s2_pipe::run(&worker, MESSAGES, 64, Flush::WhenFull).expect("the pipe runs");
        assert_eq!(streamed.received, MESSAGES, "{streamed:?}");
    });
}

/// The same frames through step 4's tuned pipe.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn pipe_tuned_messages(bencher: Bencher<'_, '_>) {
    let worker = worker();
    bencher.counter(ItemsCount::new(MESSAGES)).bench(|| {
        let streamed = s4_tuned_pipe::run(&worker, MESSAGES, 64).expect("the tuned pipe runs");
        assert_eq!(streamed.received, MESSAGES, "{streamed:?}");
    });
}

/// Typed `serde` messages (64-byte payloads, as the pipes') through ipc-channel, child to parent.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn ipc_channel_messages(bencher: Bencher<'_, '_>) {
    let worker = worker();
    bencher.counter(ItemsCount::new(MESSAGES)).bench(|| {
        let streamed = s1_channel::run(&worker, MESSAGES, 64).expect("the channel runs");
        assert_eq!(streamed.received, MESSAGES, "{streamed:?}");
    });
}

/// The same 64-byte payloads through step 8's ring in shared memory, child to parent.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn shm_ring_messages(bencher: Bencher<'_, '_>) {
    let worker = worker();
    bencher.counter(ItemsCount::new(MESSAGES)).bench(|| {
        let streamed = s8_shm_ring::run(&worker, MESSAGES, 64).expect("the ring runs");
        assert_eq!(streamed.received, MESSAGES, "{streamed:?}");
    });
}

/// Two child processes incrementing one `AtomicU64` in a shared segment.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn shm_counter_two_processes(bencher: Bencher<'_, '_>) {
    let worker = worker();
    bencher.counter(ItemsCount::new(2 * INCREMENTS)).bench(|| {
        let counted = s6_atomic_counter::run(&worker, 2, INCREMENTS).expect("the counter works");
        assert_eq!(counted.total, counted.expected, "{counted:?}");
    });
}

/// One uncontended `fetch_add` on a word of a shared mapping, in this process.
#[divan::bench]
fn atomic_increment_in_shared_memory(bencher: Bencher<'_, '_>) {
    let segment = Segment::create("queue-ipc-bench", 4096).expect("4 KiB of shared memory");
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
