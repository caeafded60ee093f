//! The executor on threads: `max_workers` threads taking tasks from one priority queue and
//! reporting each end into one completion channel.
//!
//! The queue is a priority queue behind a `Mutex` and a `Condvar` rather than a channel: a
//! channel is first-in first-out by construction, and the `priority` variant needs "highest
//! first", plus the power to empty the queue when pending work is cancelled. Within one priority
//! tasks start in submission order, so plain `submit` behaves like Python's `ThreadPoolExecutor`.

mod worker;

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::Sender;

use crate::completion::{AsCompleted, Completion, Completions, Handle, TaskError, TaskId};
use crate::queue::{Levels, Queued};
use worker::{Shared, State, worker_loop};

/// What a thread executor runs: any closure returning a value or an error message.
pub type Task = Box<dyn FnOnce() -> Result<u64, String> + Send + 'static>;

/// Worker threads are named this plus their number, so a panic hook can tell them apart.
pub(crate) const WORKER_NAME: &str = "executor-worker-";

/// A thread pool with `submit`, handles and `as_completed`, like Python's `ThreadPoolExecutor`.
pub struct Executor {
    /// The queue and the counters the workers share.
    shared: Arc<Shared>,
    /// One join handle per worker thread, joined on shutdown.
    workers: Vec<JoinHandle<()>>,
    /// Where workers report; read by `as_completed`.
    completions: Completions,
    /// A sender kept to hand cancelled tasks' completions to `as_completed`.
    done_tx: Sender<Completion>,
    /// The next task's id.
    next_id: TaskId,
}

impl Executor {
    /// Starts `max_workers` threads (at least one).
    pub fn new(max_workers: usize) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: Levels::default(),
                started: 0,
                idle: 0,
                closing: false,
            }),
            work: Condvar::new(),
        });
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        let mut workers = Vec::with_capacity(max_workers.max(1));
        for n in 0..max_workers.max(1) {
            let (mine, my_tx) = (Arc::clone(&shared), done_tx.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("{WORKER_NAME}{n}"))
                .spawn(move || worker_loop(&mine, &my_tx));
            match spawned {
                Ok(handle) => workers.push(handle),
                Err(err) => {
                    // Stop and join the workers already started before reporting.
                    drop(Self::assemble(shared, workers, done_tx, done_rx));
                    return Err(err);
                }
            }
        }
        Ok(Self::assemble(shared, workers, done_tx, done_rx))
    }

    fn assemble(
        shared: Arc<Shared>,
        workers: Vec<JoinHandle<()>>,
        done_tx: Sender<Completion>,
        done_rx: crossbeam_channel::Receiver<Completion>,
    ) -> Self {
        Self {
            shared,
            workers,
            completions: Completions::new(done_rx),
            done_tx,
            next_id: 0,
        }
    }

    /// Queues `task` at the default priority (0) and returns its handle.
    pub fn submit(
        &mut self,
        task: impl FnOnce() -> Result<u64, String> + Send + 'static,
    ) -> Handle {
        self.submit_with_priority(0, task)
    }

    /// Queues `task`; when more tasks wait than workers are free, higher `priority` starts first.
    pub fn submit_with_priority(
        &mut self,
        priority: i32,
        task: impl FnOnce() -> Result<u64, String> + Send + 'static,
    ) -> Handle {
        let id = self.next_id;
        self.next_id += 1;
        let wake = {
            let mut state = self.shared.lock();
            let task = Box::new(task);
            state.queue.push(priority, Queued { id, task });
            state.idle > 0
        };
        // Notify after unlocking, so the woken worker does not block on a lock we still hold.
        // Skipping it when nobody sleeps saves a futex call per task in a busy pool.
        if wake {
            self.shared.work.notify_one();
        }
        Handle::new(id)
    }

    /// Yields `handles`' completions in the order the tasks finish.
    pub fn as_completed(&mut self, handles: Vec<Handle>) -> AsCompleted<'_> {
        self.completions.as_completed(handles)
    }

    /// Like [`as_completed`](Self::as_completed), but stops waiting at `deadline`.
    pub fn as_completed_until(
        &mut self,
        handles: Vec<Handle>,
        deadline: Instant,
    ) -> AsCompleted<'_> {
        self.completions.as_completed_until(handles, Some(deadline))
    }

    /// Cancels every task that has not started (Python's `shutdown(cancel_futures=True)`); each
    /// arrives through `as_completed` as [`TaskError::Cancelled`]. Running tasks are not touched:
    /// a thread cannot be stopped from outside safely. Returns how many were cancelled.
    pub fn cancel_pending(&mut self) -> usize {
        let cancelled = self.shared.lock().queue.take_all();
        let count = cancelled.len();
        for queued in cancelled {
            // We hold the receiver, so this send cannot fail.
            let _ = self.done_tx.send(Completion {
                id: queued.id,
                start_rank: None,
                outcome: Err(TaskError::Cancelled),
            });
        }
        count
    }

    /// Runs what is queued, stops the workers and joins them; a worker thread that died is an
    /// error rather than a silent loss.
    pub fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> anyhow::Result<()> {
        self.shared.lock().closing = true;
        self.shared.work.notify_all();
        let mut lost = 0;
        for worker in self.workers.drain(..) {
            lost += usize::from(worker.join().is_err());
        }
        anyhow::ensure!(lost == 0, "{lost} executor worker thread(s) panicked");
        Ok(())
    }
}

impl Drop for Executor {
    /// Dropping waits for queued and running tasks, like `with ThreadPoolExecutor() as ex:`.
    fn drop(&mut self) {
        if let Err(err) = self.stop_and_join() {
            eprintln!("error: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_completes_once_with_its_value() {
        let mut ex = Executor::new(3).unwrap();
        let handles: Vec<Handle> = (0..100u64).map(|x| ex.submit(move || Ok(x * x))).collect();
        let mut seen: Vec<(TaskId, u64)> = ex
            .as_completed(handles)
            .map(|c| (c.id, c.outcome.unwrap()))
            .collect();
        seen.sort_unstable();
        let want: Vec<(TaskId, u64)> = (0..100).map(|x| (x, x * x)).collect();
        assert_eq!(seen, want);
        ex.shutdown().unwrap();
    }

    #[test]
    fn errors_and_panics_arrive_as_err_and_the_worker_survives() {
        let mut ex = Executor::new(1).unwrap();
        let failing = ex.submit(|| Err("no".to_string()));
        let panicking = ex.submit(|| panic!("boom"));
        let fine = ex.submit(|| Ok(7));
        let mut outcomes: Vec<_> = ex
            .as_completed(vec![failing, panicking, fine])
            .map(|c| (c.id, c.outcome))
            .collect();
        outcomes.sort_by_key(|(id, _)| *id);
        assert_eq!(outcomes[0].1, Err(TaskError::Failed("no".into())));
        assert_eq!(outcomes[1].1, Err(TaskError::Panicked("boom".into())));
        assert_eq!(outcomes[2].1, Ok(7));
    }

    #[test]
    fn queued_tasks_start_highest_priority_first() {
        let mut ex = Executor::new(1).unwrap();
        // Hold the only worker until every prioritised task is queued.
        let (gate_tx, gate_rx) = crossbeam_channel::bounded::<()>(0);
        let (started_tx, started_rx) = crossbeam_channel::bounded(1);
        let blocker = ex.submit(move || {
            started_tx.send(()).map_err(|e| e.to_string())?;
            Ok(u64::from(gate_rx.recv().is_err()))
        });
        started_rx.recv().unwrap();
        let handles: Vec<Handle> = [1, 5, 3]
            .into_iter()
            .map(|p| ex.submit_with_priority(p, move || Ok(0)))
            .collect();
        drop(gate_tx);
        let mut ranked: Vec<(u64, TaskId)> = ex
            .as_completed(handles)
            .map(|c| (c.start_rank.unwrap(), c.id))
            .collect();
        ranked.sort_unstable();
        let ids: Vec<TaskId> = ranked.into_iter().map(|(_, id)| id).collect();
        assert_eq!(ids, vec![2, 3, 1]);
        assert_eq!(ex.as_completed(vec![blocker]).count(), 1);
    }
}
