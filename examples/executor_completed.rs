//! A thread-pool executor with `submit(task) -> Handle` and `as_completed(handles)`: steps 1 to
//! 3 of `crates/executor-completed` in one file. Each worker sends `(id, result)` into one
//! channel the moment a task ends, so "as completed" is "as received"; an `Err` or a panic
//! arrives as `Err` with its id (and the panic's message), and the worker carries on. The
//! program checks that every task came back once with the right value, and exits 1 if not.
//!
//! Run: `cargo run --release --example executor_completed`
//! ```toml
//! [dependencies]
//! crossbeam-channel = "0.5"  # a Clone Receiver: workers share one queue, no Mutex around it
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
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
    /// Results that came in while `as_completed` waited for other tasks, kept for a later call.
    early: HashMap<u64, Result<u64, String>>,
    workers: Vec<JoinHandle<()>>,
    next_id: u64,
}

impl Executor {
    /// Starts `max_workers` threads (at least one: with none, every wait would be for ever).
    fn new(max_workers: usize) -> std::io::Result<Self> {
        let (jobs, job_rx) = unbounded::<(u64, Task)>();
        let (done_tx, done) = unbounded();
        let (early, workers) = (HashMap::new(), Vec::new());
        let mut ex = Self {
            jobs: Some(jobs),
            done,
            early,
            workers,
            next_id: 0,
        };
        for _ in 0..max_workers.max(1) {
            let (job_rx, done_tx) = (job_rx.clone(), done_tx.clone());
            // On `?`, dropping `ex` joins the workers already started.
            ex.workers
                .push(thread::Builder::new().spawn(move || work(&job_rx, &done_tx))?);
        }
        Ok(ex)
    }

    fn submit(&mut self, task: impl FnOnce() -> Result<u64, String> + Send + 'static) -> Handle {
        self.next_id += 1;
        let id = self.next_id - 1;
        // `jobs` is only taken in `drop`; workers hold the receiver until then (a task's panic
        // is caught, so none dies early), so the send cannot fail.
        let jobs = self.jobs.as_ref().expect("taken only in drop");
        jobs.send((id, Box::new(task))).expect("workers are alive");
        Handle(id)
    }

    /// The results of `handles`, in the order their tasks finish.
    fn as_completed(&mut self, handles: Vec<Handle>) -> impl Iterator<Item = Done> + '_ {
        let mut pending: HashSet<u64> = handles.into_iter().map(|h| h.0).collect();
        // Those that came in while an earlier call waited are ready at once, and not pending.
        let mut ready = Vec::new();
        pending.retain(|&id| {
            self.early
                .remove(&id)
                .map(|r| ready.push((id, r)))
                .is_none()
        });
        ready.into_iter().chain(std::iter::from_fn(move || {
            while !pending.is_empty() {
                // Every worker holds a sender while `self` lives, so this only ends if all died.
                let (id, result) = self.done.recv().ok()?;
                if pending.remove(&id) {
                    return Some((id, result));
                }
                self.early.insert(id, result); // someone else's: kept, not dropped
            }
            None
        }))
    }
}

/// One worker: runs jobs until the executor drops its sender and the queue is empty.
fn work(jobs: &Receiver<(u64, Task)>, done: &Sender<Done>) {
    for (id, task) in jobs.iter() {
        // A panic is caught and becomes the task's Err, message and all, so the worker lives
        // on. The task is consumed by the call, so nothing observes what the panic left half-done.
        let result = catch_unwind(AssertUnwindSafe(task)).unwrap_or_else(|payload| {
            let msg = payload.downcast_ref::<&str>().map(|s| s.to_string());
            let msg = msg.or_else(|| payload.downcast_ref::<String>().cloned());
            Err(format!("panicked: {}", msg.unwrap_or_default()))
        });
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

fn main() -> std::io::Result<ExitCode> {
    let mut executor = Executor::new(4)?;
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
    drop(executor); // every worker joined before the verdict, on either path
    let right = (0..8).all(|i| results.get(&i) == Some(&Ok(i * i)))
        && results.get(&8) == Some(&Err("refused on purpose".into()))
        && results.get(&9) == Some(&Err("panicked: task 9 panics on purpose".into()));
    if results.len() != 10 || !right {
        eprintln!("WRONG: every task should come back once: 0-7 squared, 8 and 9 as Err");
        return Ok(ExitCode::FAILURE);
    }
    println!("ok: 10 of 10 tasks came back once each, in the order they finished");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_not_asked_for_is_kept_for_a_later_call() {
        let mut ex = Executor::new(2).unwrap();
        let (gate_tx, gate_rx) = crossbeam_channel::bounded::<()>(0);
        let slow = ex.submit(move || Ok(u64::from(gate_rx.recv().is_err())));
        let quick = ex.submit(|| Ok(2));
        while ex.done.is_empty() {
            thread::yield_now(); // until the quick result waits in the channel
        }
        drop(gate_tx);
        assert_eq!(
            ex.as_completed(vec![slow]).collect::<Vec<_>>(),
            [(0, Ok(1))]
        );
        // Every worker gone, so only a result kept from the first call can come back.
        drop(ex.jobs.take());
        ex.workers.drain(..).for_each(|w| w.join().unwrap());
        assert_eq!(
            ex.as_completed(vec![quick]).collect::<Vec<_>>(),
            [(1, Ok(2))]
        );
    }

    #[test]
    fn a_panic_arrives_with_its_message_and_zero_workers_means_one() {
        let mut ex = Executor::new(0).unwrap();
        let handle = ex.submit(|| panic!("boom {}", 7));
        let done: Vec<Done> = ex.as_completed(vec![handle]).collect();
        assert_eq!(done, [(0, Err("panicked: boom 7".to_string()))]);
    }
}
