//! A thread-pool executor with `submit(task) -> Handle` and `as_completed(handles)`, results in
//! the order tasks finish: steps 1 to 3 of `crates/executor-completed`, in one file to copy.
//! Every worker sends `(id, result)` into one channel the moment a task ends, so "as completed"
//! is "as received"; a task that returns `Err` or panics arrives as `Err` with its id, and the
//! worker carries on. Task 0, submitted first, takes longest. The program checks that every
//! task came back once with the right value, and exits 1 if not.
//!
//! Run: `cargo run --release --example executor_completed`
//! Dependencies: `crossbeam-channel = "0.5"` (its `Receiver` is `Clone`, so every worker takes
//! jobs from one queue without a lock around it; std's `mpsc::Receiver` would need a `Mutex`).

use std::collections::{BTreeMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, unbounded};

type Task = Box<dyn FnOnce() -> Result<u64, String> + Send>;
type Done = (u64, Result<u64, String>);

/// A task's claim ticket. Not `Clone`: each result is claimed once.
struct Handle(u64);

struct Executor {
    jobs: Option<Sender<(u64, Task)>>,
    done: Receiver<Done>,
    workers: Vec<JoinHandle<()>>,
    next_id: u64,
}

impl Executor {
    fn new(max_workers: usize) -> Self {
        let (jobs, job_rx) = unbounded::<(u64, Task)>();
        let (done_tx, done) = unbounded();
        let workers = (0..max_workers)
            .map(|_| {
                let (job_rx, done_tx) = (job_rx.clone(), done_tx.clone());
                thread::spawn(move || work(&job_rx, &done_tx))
            })
            .collect();
        Self {
            jobs: Some(jobs),
            done,
            workers,
            next_id: 0,
        }
    }

    fn submit(&mut self, task: impl FnOnce() -> Result<u64, String> + Send + 'static) -> Handle {
        self.next_id += 1;
        let id = self.next_id - 1;
        // `jobs` is only taken in `drop`, and workers hold the receiver until then.
        let jobs = self.jobs.as_ref().expect("taken only in drop");
        jobs.send((id, Box::new(task))).expect("workers are alive");
        Handle(id)
    }

    /// The results of `handles`, in the order their tasks finish.
    fn as_completed(&self, handles: Vec<Handle>) -> impl Iterator<Item = Done> + '_ {
        let mut pending: HashSet<u64> = handles.into_iter().map(|h| h.0).collect();
        // Simpler than the crate: a result not asked for is dropped (the crate keeps it).
        std::iter::from_fn(move || {
            while !pending.is_empty() {
                let (id, result) = self.done.recv().ok()?;
                if pending.remove(&id) {
                    return Some((id, result));
                }
            }
            None
        })
    }
}

/// One worker: runs jobs until the executor drops its sender and the queue is empty.
fn work(jobs: &Receiver<(u64, Task)>, done: &Sender<Done>) {
    for (id, task) in jobs.iter() {
        // A panic is caught and becomes the task's Err, so the worker lives on. The task is
        // consumed by the call, so nothing observes what the panic left half-done.
        let result =
            catch_unwind(AssertUnwindSafe(task)).unwrap_or_else(|_| Err("panicked".into()));
        let _ = done.send((id, result)); // the receiver is gone only if nobody is listening
    }
}

impl Drop for Executor {
    /// Like leaving `with ThreadPoolExecutor() as ex:`: run the queue, join every worker.
    fn drop(&mut self) {
        drop(self.jobs.take());
        for worker in self.workers.drain(..) {
            if worker.join().is_err() {
                eprintln!("a worker thread panicked outside a task");
            }
        }
    }
}

fn main() {
    let mut executor = Executor::new(4);
    // Task 0 sleeps 300 ms, task i > 0 sleeps (8 - i) x 10 ms: the first submitted is longest.
    let mut handles: Vec<Handle> = (0..8u64)
        .map(|i| {
            let ms = if i == 0 { 300 } else { (8 - i) * 10 };
            executor.submit(move || {
                thread::sleep(Duration::from_millis(ms));
                Ok(i * i)
            })
        })
        .collect();
    handles.push(executor.submit(|| Err("refused on purpose".into())));
    handles.push(executor.submit(|| panic!("task 9 panics on purpose")));
    let mut results = BTreeMap::new();
    for (id, result) in executor.as_completed(handles) {
        println!("task {id}: {result:?}");
        results.insert(id, result);
    }
    let right = (0..8).all(|i| results.get(&i) == Some(&Ok(i * i)))
        && [8, 9]
            .iter()
            .all(|i| results.get(i).is_some_and(Result::is_err));
    if results.len() != 10 || !right {
        eprintln!("WRONG: every task should come back once: 0-7 squared, 8 and 9 as Err");
        std::process::exit(1);
    }
    println!("ok: 10 of 10 tasks came back once each, in the order they finished");
}
