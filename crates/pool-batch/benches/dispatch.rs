//! Per-task dispatch cost of a pool: 10 000 trivial tasks mapped, in input order, through the
//! hand-built crossbeam pool (one item a message and chunks of 1000), `rayon`, and the textbook
//! `std::sync::mpsc` pool (a boxed job per item behind a `Mutex<Receiver>`).
//!
//! `cargo bench -p pool-batch --bench dispatch`; divan prints time per map and items per second;
//! time per map / 10 000 is the per-task dispatch cost the crate docs quote.

use std::hint::black_box;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use divan::Bencher;
use divan::counter::ItemsCount;
use pool_batch::ThreadPool;
use rayon::prelude::*;

const TASKS: u64 = 10_000;

fn main() {
    divan::main();
}

fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// The task: as cheap as possible, so only dispatch is measured.
fn task(x: u64) -> u64 {
    black_box(x).wrapping_mul(2)
}

#[divan::bench]
fn crossbeam_pool_one_item_a_message(bencher: Bencher<'_, '_>) {
    let pool = ThreadPool::new(workers()).expect("threads start");
    bencher
        .counter(ItemsCount::new(TASKS))
        .with_inputs(|| (0..TASKS).collect::<Vec<u64>>())
        .bench_local_values(|items| pool.map(task, items));
}

#[divan::bench]
fn crossbeam_pool_chunks_of_1000(bencher: Bencher<'_, '_>) {
    let pool = ThreadPool::new(workers()).expect("threads start");
    bencher
        .counter(ItemsCount::new(TASKS))
        .with_inputs(|| (0..TASKS).collect::<Vec<u64>>())
        .bench_local_values(|items| pool.map_chunked(task, items, 1000));
}

#[divan::bench]
fn rayon_par_iter(bencher: Bencher<'_, '_>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers())
        .build()
        .expect("threads start");
    let items: Vec<u64> = (0..TASKS).collect();
    bencher
        .counter(ItemsCount::new(TASKS))
        .bench_local(|| pool.install(|| items.par_iter().map(|&x| task(x)).collect::<Vec<_>>()));
}

#[divan::bench]
fn std_mpsc_pool(bencher: Bencher<'_, '_>) {
    let pool = MpscPool::new(workers());
    bencher
        .counter(ItemsCount::new(TASKS))
        .with_inputs(|| (0..TASKS).collect::<Vec<u64>>())
        .bench_local_values(|items| pool.map(task, items));
}

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The textbook pool (The Rust Programming Language, chapter 21): `mpsc` has one receiver, so
/// the workers share it behind a `Mutex`, and every task is a boxed closure.
struct MpscPool {
    jobs: Option<mpsc::Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl MpscPool {
    fn new(n: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let workers = (0..n)
            .map(|_| {
                let queue = Arc::clone(&queue);
                std::thread::spawn(move || {
                    loop {
                        // The guard is dropped at the end of this statement, before the job
                        // runs. A poisoned lock cannot happen: jobs run outside it.
                        let job = queue.lock().expect("not poisoned").recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => break,
                        }
                    }
                })
            })
            .collect();
        Self {
            jobs: Some(jobs),
            workers,
        }
    }

    fn map(&self, f: fn(u64) -> u64, items: Vec<u64>) -> Vec<u64> {
        let n = items.len();
        let (tx, rx) = mpsc::channel();
        let jobs = self.jobs.as_ref().expect("pool is running");
        for (i, x) in items.into_iter().enumerate() {
            let tx = tx.clone();
            jobs.send(Box::new(move || {
                let _ = tx.send((i, f(x)));
            }))
            .expect("workers are running");
        }
        drop(tx);
        let mut out = vec![0; n];
        for (i, y) in rx {
            out[i] = y;
        }
        out
    }
}

impl Drop for MpscPool {
    fn drop(&mut self) {
        drop(self.jobs.take());
        for worker in self.workers.drain(..) {
            // A benchmark worker that panicked has already printed why; nothing to add.
            let _ = worker.join();
        }
    }
}
