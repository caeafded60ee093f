//! A worker pool in one file: fixed threads fed by one crossbeam channel, an ordered `map` with
//! chunks, a panicking task that becomes an `Err` for its item only, and the tutorial's new pool
//! per batch beside one pool for all batches.
//!
//! Python: `pool.map(square, numbers, chunksize=1000)`, and the tutorial's `for batch in
//! batches: with Pool() as pool: pool.map(square, batch)`. Run: `cargo run --release --example
//! pool_batch`. To copy it into your own project:
//!
//! ```toml
//! [dependencies]
//! crossbeam-channel = "0.5"
//! ```

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Sender, unbounded};

type Job = Box<dyn FnOnce() + Send>;

/// Threads that live until the pool is dropped, running whatever jobs arrive.
struct Pool {
    jobs: Option<Sender<Job>>, // dropping it tells the workers to exit
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    fn new(n: usize) -> Pool {
        let (jobs, queue) = unbounded::<Job>();
        // crossbeam's receiver can be cloned: every worker waits on the same queue, no Mutex.
        let workers = (0..n)
            .map(|_| queue.clone())
            .map(|queue| std::thread::spawn(move || queue.into_iter().for_each(|job| job())))
            .collect();
        let jobs = Some(jobs);
        Pool { jobs, workers }
    }

    /// `f` over `items`, `chunk` items a message, results in input order. One job per worker
    /// drains a channel of chunks, so no closure is boxed per item.
    fn map<T, R, F>(&self, f: F, items: Vec<T>, chunk: usize) -> Vec<Result<R, String>>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let (n, f) = (items.len(), Arc::new(f));
        let (chunk_tx, chunk_rx) = unbounded::<(usize, Vec<T>)>();
        let (out_tx, out_rx) = unbounded::<(usize, Vec<Result<R, String>>)>();
        for _ in 0..self.workers.len() {
            let (f, chunk_rx, out_tx) = (f.clone(), chunk_rx.clone(), out_tx.clone());
            let job = move || {
                for (start, part) in chunk_rx {
                    // A panic becomes this item's Err; AssertUnwindSafe is fine because nothing
                    // the task touched is looked at after it panicked.
                    let run =
                        |x| catch_unwind(AssertUnwindSafe(|| f(x))).map_err(|_| "panicked".into());
                    let _ = out_tx.send((start, part.into_iter().map(run).collect()));
                }
            };
            // The workers outlive every map, so the queue is open; ignoring the error is safe.
            let _ = self.jobs.as_ref().map(|jobs| jobs.send(Box::new(job)));
        }
        drop(out_tx); // now only the jobs hold senders: out_rx ends when they finish
        let mut items = items.into_iter();
        for start in (0..n).step_by(chunk.max(1)) {
            let _ = chunk_tx.send((start, items.by_ref().take(chunk.max(1)).collect()));
        }
        drop(chunk_tx); // the jobs' loops end once the chunks are gone
        let mut slots: Vec<Option<Result<R, String>>> = (0..n).map(|_| None).collect();
        for (start, results) in out_rx {
            for (slot, r) in slots[start..].iter_mut().zip(results) {
                *slot = Some(r);
            }
        }
        slots
            .into_iter()
            .map(|s| s.unwrap_or(Err("lost".into())))
            .collect()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        drop(self.jobs.take());
        for worker in self.workers.drain(..) {
            let _ = worker
                .join()
                .map_err(|_| eprintln!("a worker thread panicked")); // said, not lost
        }
    }
}

fn main() {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let n: u64 = 1_000_000;
    let want = n * (n + 1) * (2 * n + 1) / 6; // 1² + ... + n², independently of the pool
    let pool = Pool::new(workers);
    for chunk in [1, 1000] {
        let t = Instant::now();
        let out = pool.map(|x: u64| x * x, (1..=n).collect(), chunk);
        let sum: u64 = out.iter().flatten().sum();
        let (took, ok) = (t.elapsed(), sum == want);
        println!("chunk {chunk:>4}: {took:>8.2?}, sum ok: {ok}");
    }
    let boom = |x: u64| if x == 3 { panic!("three") } else { x };
    let out = pool.map(boom, vec![1, 2, 3, 4], 1);
    println!("a panicking task: {out:?}");

    let (batch, batches) = (2 * workers as u64, 200);
    let numbers = move |b: u64| (b * batch..(b + 1) * batch).collect::<Vec<u64>>();
    let t = Instant::now();
    for b in 0..batches {
        // The tutorial: a new pool for every batch, started and joined (on drop) each time.
        Pool::new(workers).map(|x: u64| x * x, numbers(b), 1);
    }
    let each = t.elapsed();
    let t = Instant::now();
    (0..batches).for_each(|b| drop(pool.map(|x: u64| x * x, numbers(b), 1)));
    let one = t.elapsed();
    println!("{batches} batches: new pool each {each:.2?}, one pool {one:.2?}");
}
