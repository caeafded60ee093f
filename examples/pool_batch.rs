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
    /// `n` workers, at least one: with none, no job would ever run.
    fn new(n: usize) -> Pool {
        let (jobs, queue) = unbounded::<Job>();
        let mut workers = Vec::new();
        for _ in 0..n.max(1) {
            // crossbeam's receiver can be cloned: every worker waits on the same queue.
            let queue = queue.clone();
            workers.push(thread::spawn(move || queue.iter().for_each(|job| job())));
        }
        let jobs = Some(jobs);
        Pool { jobs, workers }
    }

    /// `f` over `items`, `chunk` items a job (0 counts as 1), one result per item in order.
    fn map<F>(&self, f: F, items: &[u64], chunk: usize) -> Answers
    where
        F: Fn(u64) -> u64 + Send + Sync + 'static,
    {
        let (f, (answers, answered), chunk) = (Arc::new(f), unbounded(), chunk.max(1));
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
        // `panic!("text")` carries a `&str`; `panic!("{x}")`, with arguments, a `String`.
        let text = p.downcast_ref::<&str>().copied();
        let text = text.or_else(|| p.downcast_ref::<String>().map(String::as_str));
        text.unwrap_or("a panic").to_string()
    })
}

/// Prints what was checked and whether it came out right; returns that.
fn report(what: String, right: bool) -> bool {
    println!("{what}: {}", if right { "right" } else { "WRONG" });
    right
}

/// Times `work` and checks its results: `n` of them, each the square of its item `1..=n`.
fn squares(what: &str, n: usize, work: impl FnOnce() -> Answers) -> bool {
    let started = Instant::now();
    let results = work();
    // The count first: `zip` stops at the shorter side, so a short result would pass unseen.
    let right = results.len() == n && results.iter().zip(1..).all(|(r, x)| *r == Ok(x * x));
    report(format!("{what}, {:.2?}", started.elapsed()), right)
}

fn main() -> ExitCode {
    let workers = thread::available_parallelism().map_or(2, |n| n.get());
    let pool = Pool::new(workers);
    let (numbers, square): (Vec<u64>, _) = ((1..=200_000).collect(), |x: u64| x * x);
    let n = numbers.len();
    let mut right = squares("one item a job", n, || pool.map(square, &numbers, 1));
    right &= squares("1000 items a job", n, || pool.map(square, &numbers, 1000));

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
    right &= squares("200 batches, a new pool each", numbers.len(), || {
        // The tutorial: a new pool for every batch, started and joined (on drop) each time.
        let batch = |b: &[u64]| Pool::new(workers).map(square, b, 1);
        numbers.chunks(size).flat_map(batch).collect()
    });
    right &= squares("200 batches, one pool", numbers.len(), || {
        let batch = |b: &[u64]| pool.map(square, b, 1);
        numbers.chunks(size).flat_map(batch).collect()
    });
    if right {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_or_misplaced_result_is_wrong() {
        assert!(squares("whole", 3, || vec![Ok(1), Ok(4), Ok(9)]));
        assert!(!squares("short", 3, || vec![Ok(1), Ok(4)]));
        assert!(!squares("misplaced", 2, || vec![Ok(4), Ok(1)]));
    }

    #[test]
    fn map_takes_any_chunk_and_keeps_a_formatted_panic_message() {
        let pool = Pool::new(2);
        let f = |x: u64| if x == 2 { panic!("item {x}") } else { x };
        let want = [Ok(1), Err("item 2".to_string()), Ok(3)];
        assert_eq!(pool.map(f, &[1, 2, 3], 0), want);
    }
}
