//! What starting a thread costs: `thread::spawn` + `join` of an empty closure, the same through
//! `thread::Builder` with a name, and `thread::scope` with one and with two threads.
//!
//! `cargo bench -p threads-basic --bench spawn`. The figure is the whole life of a thread: the
//! `clone3` system call, a fresh stack mapped, the thread scheduled, run and reaped by `join`.
//! It is why a pool pays off for small tasks and why one thread per request is fine for twenty.

use std::hint::black_box;
use std::thread;

fn main() {
    divan::main();
}

/// `thread::spawn(f).join()`: the tutorial's `Thread(target=f).start(); join()`.
#[divan::bench]
fn spawn_join() -> u64 {
    // The closure returns a value so the result really travels back through `join`; `unwrap` is
    // right in a benchmark: a panic in an empty closure would be a bug worth stopping for.
    thread::spawn(|| black_box(1_u64)).join().unwrap()
}

/// The same through `Builder`, with a name (one more allocation, the name copied to the thread).
#[divan::bench]
fn builder_named_spawn_join() -> u64 {
    thread::Builder::new()
        .name("bench".into())
        .spawn(|| black_box(1_u64))
        .expect("a machine running benchmarks can start one thread")
        .join()
        .unwrap()
}

/// `thread::scope` with `n` threads borrowing a local value: spawn, run, joined by the scope.
#[divan::bench(args = [1, 2])]
fn scoped_spawn(n: usize) -> u64 {
    let local = black_box(7_u64);
    thread::scope(|s| {
        let handles: Vec<_> = (0..n).map(|_| s.spawn(|| local + 1)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    })
}
