//! A thread-pool executor with `submit(task) -> Handle` and `as_completed(handles)`, results in
//! the order tasks finish. The core of `crates/executor-completed`, in one file you can copy.
//!
//! Python's `ThreadPoolExecutor.submit` + `as_completed`: every worker sends `(id, result)` into
//! one shared channel the moment a task ends, so "as completed" is simply "as received". A task
//! that returns `Err` or panics arrives as `Err` with its id; the worker carries on. Watch task 0,
//! submitted first and the longest, finish last.
//!
//! Run: `cargo run --release --example executor_completed`
//!
//! Dependencies: none, the standard library only (no `[dependencies]` lines to paste).

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

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
        let (jobs, job_rx) = channel::<(u64, Task)>();
        // std's Receiver cannot be shared, so workers take turns on it behind a Mutex
        // (crossbeam-channel's Receiver is Clone and would need no lock).
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (done_tx, done) = channel();
        let workers = (0..max_workers)
            .map(|_| {
                let (job_rx, done_tx) = (Arc::clone(&job_rx), done_tx.clone());
                thread::spawn(move || work(&job_rx, &done_tx))
            })
            .collect();
        let jobs = Some(jobs);
        Self {
            jobs,
            done,
            workers,
            next_id: 0,
        }
    }

    fn submit(&mut self, task: impl FnOnce() -> Result<u64, String> + Send + 'static) -> Handle {
        let id = self.next_id;
        self.next_id += 1;
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

fn work(jobs: &Mutex<Receiver<(u64, Task)>>, done: &Sender<Done>) {
    loop {
        // The guard is dropped at the end of this statement: the lock is held to receive, not
        // to run. A poisoned lock is impossible: nothing panics while holding it.
        let next = jobs.lock().expect("no panic under this lock").recv();
        let Ok((id, task)) = next else { return }; // the executor was dropped: exit
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
    for (id, result) in executor.as_completed(handles) {
        println!("task {id}: {result:?}");
    }
}
