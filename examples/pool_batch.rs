//! A worker pool in one file, the answer to Python's `pool.map(square, numbers, chunksize=1000)`:
//! threads fed by one crossbeam channel, an ordered `map` in chunks, a task that panics failing
//! its item only, and the tutorial's new pool per batch beside one pool for all batches. Every
//! result is checked. Run: `cargo run --release --example pool_batch`. To copy it:
//!
//! ```toml
//! [dependencies]
//! crossbeam-channel = "0.5"
//! ```

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use crossbeam_channel::{Sender, unbounded};

type Job = Box<dyn FnOnce() + Send>;
type Answers = Vec<Result<u64, String>>;

/// Threads that live until the pool is dropped, running whatever jobs arrive.
struct Pool {
    jobs: Option<Sender<Job>>, // dropping it closes the queue, which tells the workers to exit
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    fn new(n: usize) -> Pool {
        let (jobs, queue) = unbounded::<Job>();
        let mut workers = Vec::new();
        for _ in 0..n {
            // crossbeam's receiver can be cloned: every worker waits on the same queue.
            let queue = queue.clone();
            workers.push(thread::spawn(move || queue.iter().for_each(|job| job())));
        }
        let jobs = Some(jobs);
        Pool { jobs, workers }
    }

    /// `f` over `items`, `chunk` items a job, results in input order.
    fn map<F>(&self, f: F, items: &[u64], chunk: usize) -> Answers
    where
        F: Fn(u64) -> u64 + Send + Sync + 'static,
    {
        let (f, (answers, answered)) = (Arc::new(f), unbounded());
        let jobs = self.jobs.as_ref().expect("open until dropped");
        for (k, part) in items.chunks(chunk).enumerate() {
            let (f, answers, part) = (Arc::clone(&f), answers.clone(), part.to_vec());
            let job = move || {
                // A task that panics is an `Err` for its item; the worker lives on.
                let results: Answers = part.into_iter().map(|x| run_caught(&*f, x)).collect();
                answers.send((k * chunk, results)).expect("map waits");
            };
            jobs.send(Box::new(job)).expect("workers run until dropped");
        }
        drop(answers); // only the jobs hold senders now: `answered` ends when they are done
        let mut chunks: Vec<(usize, Answers)> = answered.iter().collect();
        chunks.sort_by_key(|(start, _)| *start); // they come back in any order
        chunks.into_iter().flat_map(|(_, r)| r).collect()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        drop(self.jobs.take());
        for worker in self.workers.drain(..) {
            // Tasks' panics are caught in `map`, so this would be a bug in the pool: say it.
            if worker.join().is_err() {
                eprintln!("a worker thread panicked");
            }
        }
    }
}

/// Runs `f(x)`, turning a panic into an error with its message. `AssertUnwindSafe`: after a
/// panic nothing the task touched is looked at again.
fn run_caught(f: &impl Fn(u64) -> u64, x: u64) -> Result<u64, String> {
    let caught = panic::catch_unwind(AssertUnwindSafe(|| f(x)));
    caught.map_err(|p| {
        p.downcast_ref::<&str>()
            .map_or("a panic", |s| s)
            .to_string()
    })
}

/// Prints what was checked and whether it came out right; returns that.
fn report(what: String, right: bool) -> bool {
    println!("{what}: {}", if right { "right" } else { "WRONG" });
    right
}

/// Times `work` and checks that every result is the square of its item, `1..` in order.
fn squares(what: &str, work: impl FnOnce() -> Answers) -> bool {
    let started = Instant::now();
    let results = work();
    let right = results.iter().zip(1..).all(|(r, x)| *r == Ok(x * x));
    report(format!("{what}, {:.2?}", started.elapsed()), right)
}

fn main() -> ExitCode {
    let workers = thread::available_parallelism().map_or(2, |n| n.get());
    let pool = Pool::new(workers);
    let (numbers, square): (Vec<u64>, _) = ((1..=200_000).collect(), |x: u64| x * x);
    let mut right = squares("one item a job", || pool.map(square, &numbers, 1));
    right &= squares("1000 items a job", || pool.map(square, &numbers, 1000));

    // A panic on purpose. The default panic hook would print a message and a backtrace note
    // for it, as for any bug; this one prints one line, since this panic is expected.
    println!("next, a task that panics on purpose at item 3:");
    let default_hook = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        eprintln!("  expected: {}", info.payload_as_str().unwrap_or(""));
    }));
    let three = |x| if x == 3 { panic!("three") } else { x };
    let results = pool.map(three, &[1, 2, 3, 4], 1);
    panic::set_hook(default_hook); // `map` has returned: every task, and so every panic, is done
    let want = [Ok(1), Ok(2), Err("three".to_string()), Ok(4)];
    right &= report(format!("  {results:?}"), results == want);

    let (size, batches) = (2 * workers, 200);
    let numbers: Vec<u64> = (1..=(size * batches) as u64).collect();
    right &= squares("200 batches, a new pool each", || {
        // The tutorial: a new pool for every batch, started and joined (on drop) each time.
        let batch = |b: &[u64]| Pool::new(workers).map(square, b, 1);
        numbers.chunks(size).flat_map(batch).collect()
    });
    right &= squares("200 batches, one pool", || {
        let batch = |b: &[u64]| pool.map(square, b, 1);
        numbers.chunks(size).flat_map(batch).collect()
    });
    if right {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
