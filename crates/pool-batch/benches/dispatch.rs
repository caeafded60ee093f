//! Per-task dispatch cost of a pool: 10 000 trivial tasks mapped, in input order, through the
//! lesson's steps (step 1, one item a job; step 2, chunks of 1000; step 3, the tuned map of
//! chunks of 1000; step 4, the same on workers that spin when idle), `rayon` (step 8), and the
//! textbook `std::sync::mpsc` pool (a boxed job per item behind a `Mutex<Receiver>`).
//!
//! `cargo bench -p pool-batch --bench dispatch`; divan prints time per map and items per second;
//! time per map / 10 000 is the per-task dispatch cost `docs/results.md` quotes.

use std::hint::black_box;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use divan::Bencher;
use divan::counter::ItemsCount;
use pool_batch::steps::s1_channel_pool::ThreadPool;
use pool_batch::steps::s8_rayon;

const TASKS: u64 = 10_000;
const CHUNK: usize = 1000;

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

fn items() -> Vec<u64> {
    (0..TASKS).collect()
}

#[divan::bench]
fn step1_one_item_a_job(bencher: Bencher<'_, '_>) {
    let pool = ThreadPool::new(workers()).expect("threads start");
    bencher
        .counter(ItemsCount::new(TASKS))
        .with_inputs(items)
        .bench_local_values(|items| pool.map(task, items));
}

#[divan::bench]
fn step2_chunks_of_1000(bencher: Bencher<'_, '_>) {
    let pool = ThreadPool::new(workers()).expect("threads start");
    bencher
        .counter(ItemsCount::new(TASKS))
        .with_inputs(items)
        .bench_local_values(|items| pool.map_chunked(task, items, CHUNK));
}

#[divan::bench]
fn step3_tuned_chunks_of_1000(bencher: Bencher<'_, '_>) {
    let pool = ThreadPool::new(workers()).expect("threads start");
    bencher
        .counter(ItemsCount::new(TASKS))
        .with_inputs(items)
        .bench_local_values(|items| pool.map_tuned(task, items, CHUNK));
}

#[divan::bench]
fn step4_tuned_chunks_of_1000_idle_spin(bencher: Bencher<'_, '_>) {
    let pool = ThreadPool::with_idle_spin(workers()).expect("threads start");
    bencher
        .counter(ItemsCount::new(TASKS))
        .with_inputs(items)
        .bench_local_values(|items| pool.map_tuned(task, items, CHUNK));
}

#[divan::bench]
fn step8_rayon_par_iter(bencher: Bencher<'_, '_>) {
    let pool = s8_rayon::pool(workers()).expect("threads start");
    let items = items();
    bencher
        .counter(ItemsCount::new(TASKS))
        .bench_local(|| s8_rayon::map(&pool, task, &items));
}

#[divan::bench]
fn std_mpsc_pool(bencher: Bencher<'_, '_>) {
    let pool = MpscPool::new(workers());
    bencher
        .counter(ItemsCount::new(TASKS))
        .with_inputs(items)
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
