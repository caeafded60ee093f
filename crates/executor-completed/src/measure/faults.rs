//! When tasks do not simply finish: errors and panics (step 1), a deadline and cancelled pending
//! work (step 4). Each variant still accounts for every submitted task exactly once.

use std::ops::Range;
use std::time::{Duration, Instant};

use timing::Mechanism::Threads;
use timing::Stopwatch;

use super::tally::Tally;
use super::{Measured, Outcome};
use crate::job::Job;
use crate::steps::s2_submit::Executor;
use crate::task::{Handle, TaskId};

/// Tasks the `errors` variant submits; two of them go wrong.
pub const ERROR_TASKS: u64 = 8;
/// The task that returns `Err` in the `errors` variant.
pub const FAILING_TASK: TaskId = 2;
/// The task that panics in the `errors` variant.
pub const PANICKING_TASK: TaskId = 5;

/// `errors`: one task returns `Err`, one panics; both arrive through `as_completed` as `Err`
/// carrying the task's id, and the other six finish on the same workers.
///
/// Python keeps the exception in the future and raises it from `future.result()`; here the
/// error is a value in the completion. A panic is caught on the worker (`catch_unwind`), so the
/// worker lives on; the panic message is still printed to stderr where it happened.
pub fn errors(workers: usize) -> anyhow::Result<Measured> {
    let mut executor = Executor::new(workers)?;
    let watch = Stopwatch::start();
    let handles: Vec<Handle> = (0..ERROR_TASKS)
        .map(|x| {
            let job = match x {
                FAILING_TASK => Job::Fail { x },
                PANICKING_TASK => Job::Panic { x },
                _ => Job::Square { x, sleep_ms: 2 * x },
            };
            executor.submit(move || job.run())
        })
        .collect();
    let mut tally = Tally::default();
    executor
        .as_completed(handles)
        .for_each(|done| tally.record(done));
    let wall = watch.elapsed();
    executor.shutdown()?;
    let row = tally.row("errors", Threads, workers, ERROR_TASKS);
    let row = row
        .require(tally.failed_ids() == [FAILING_TASK, PANICKING_TASK])
        .require(tally.finished.len() as u64 == ERROR_TASKS - 2)
        .items(ERROR_TASKS)
        .wall(wall)
        .note(format!(
            "task {FAILING_TASK} Err and task {PANICKING_TASK} panic both came back as Err"
        ));
    Ok(Measured {
        row,
        counts: tally.counts(ERROR_TASKS),
        outcome: Outcome::Errors,
    })
}

/// The `timeout` variant's deadline, counted from the first submit.
pub const DEADLINE_MS: u64 = 200;

/// `timeout`: `as_completed` with a deadline yields what finished by then and hands back the
/// rest, reported as not finished (Python: `as_completed(fs, timeout=...)` raises
/// `TimeoutError`).
///
/// Two fast tasks per worker (5 ms) are submitted first, then one slow task per worker. A slow
/// task runs until the variant opens a gate, which it does only after the [`DEADLINE_MS`]
/// deadline has passed, so the slow tasks are still running at the deadline on every run. A
/// slow task of a fixed length (a sleep) was the obvious choice and was rejected: on a loaded
/// machine nothing promises that the fast tasks finish before the deadline and the slow ones do
/// not. Here the variant also waits until every worker has started its slow task, which means
/// every worker has already reported its fast tasks (a worker reports a task before it takes the
/// next, and the slow ones were queued last), and `as_completed` yields completions that have
/// arrived even once the deadline has passed. The timeout stops the *waiting*, not the work: a
/// thread cannot be stopped from outside, so the slow tasks run on, and the row's
/// `finished_late` counts them coming in after the deadline. They stay counted as timed out,
/// once.
pub fn timeout(workers: usize) -> anyhow::Result<Measured> {
    let w = workers as u64;
    let mut executor = Executor::new(workers)?;
    let watch = Stopwatch::start();
    let deadline = Instant::now() + Duration::from_millis(DEADLINE_MS);
    let mut handles: Vec<Handle> = (0..2 * w)
        .map(|x| executor.submit(move || Job::Square { x, sleep_ms: 5 }.run()))
        .collect();
    let (gate, slow) = gated_start(&mut executor, 2 * w..3 * w, 0)?;
    handles.extend(slow);
    let mut tally = Tally::default();
    let mut done = executor.as_completed_until(handles, deadline);
    done.by_ref().for_each(|c| tally.record(c));
    let not_finished = done.not_finished();
    tally.time_out(&not_finished);
    let not_finished_ids = tally.timed_out.clone();
    // Let the slow tasks end and wait for them anyway, to show they were still working, not lost.
    drop(gate);
    let late = executor.as_completed(not_finished).count();
    let wall = watch.elapsed();
    executor.shutdown()?;
    let slow_ids: Vec<TaskId> = (2 * w..3 * w).collect();
    let row = tally
        .row("timeout", Threads, workers, 3 * w)
        .require(not_finished_ids == slow_ids && late == slow_ids.len())
        .items(3 * w)
        .wall(wall)
        .extra("timed_out_ids", not_finished_ids)
        .extra("finished_late", late)
        .note(format!(
            "{} of {} not finished at {DEADLINE_MS} ms; they finished later anyway",
            slow_ids.len(),
            3 * w
        ));
    Ok(Measured {
        row,
        counts: tally.counts(3 * w),
        outcome: Outcome::Timeout {
            finished_late: late,
        },
    })
}

/// `cancel`: cancelling pending work cancels every task that had not started, and says how
/// many (Python: `executor.shutdown(cancel_futures=True)`).
///
/// Four tasks per worker are submitted. The first task on each worker waits at a gate, so when
/// `cancel_pending` runs exactly `workers` tasks are running and the other `3 × workers` are
/// still queued: the count is the same on every run, not a race against the clock. The running
/// ones then finish; the cancelled ones arrive through `as_completed` as `Cancelled`. (Python's
/// `as_completed` never yields futures that `shutdown` cancelled, and waits for them forever:
/// python/cpython#87893, still open; the twin counts them with `future.cancelled()` first.)
pub fn cancel(workers: usize) -> anyhow::Result<Measured> {
    let w = workers as u64;
    let mut executor = Executor::new(workers)?;
    let watch = Stopwatch::start();
    let (gate, started) = gated_start(&mut executor, 0..w, 0)?;
    let handles: Vec<Handle> = (w..4 * w)
        .map(|x| executor.submit(move || Job::Square { x, sleep_ms: 1 }.run()))
        .collect();
    let cancelled = executor.cancel_pending();
    drop(gate);
    let mut tally = Tally::default();
    let all = started.into_iter().chain(handles).collect();
    executor.as_completed(all).for_each(|c| tally.record(c));
    let wall = watch.elapsed();
    executor.shutdown()?;
    let row = tally
        .row("cancel", Threads, workers, 4 * w)
        .require(cancelled as u64 == 3 * w && tally.cancelled.len() == cancelled)
        .require(tally.finished.len() as u64 == w)
        .items(4 * w)
        .wall(wall)
        .extra("cancelled_by_shutdown", cancelled)
        .note(format!(
            "{cancelled} pending tasks cancelled, {w} running ones finished"
        ));
    Ok(Measured {
        row,
        counts: tally.counts(4 * w),
        outcome: Outcome::Cancel,
    })
}

/// Submits one task per id in `ids`, each waiting at a gate, and returns once all of them are
/// running: the gate (drop it to open) and their handles. `ids` must be the ids the executor
/// gives next and number at most the workers, who are then all held; each task returns its id
/// squared. `priority` is what they are submitted with.
pub(crate) fn gated_start(
    executor: &mut Executor,
    ids: Range<TaskId>,
    priority: i32,
) -> anyhow::Result<(crossbeam_channel::Sender<()>, Vec<Handle>)> {
    // A channel nobody sends on is a gate: every `recv` blocks until the sender is dropped.
    let (gate_tx, gate_rx) = crossbeam_channel::bounded::<()>(0);
    let (started_tx, started_rx) = crossbeam_channel::unbounded();
    let handles: Vec<Handle> = ids
        .map(|x| {
            let (gate_rx, started_tx) = (gate_rx.clone(), started_tx.clone());
            let handle = executor.submit_with_priority(priority, move || {
                // The receiver below outlives every gated task, so this send cannot fail.
                let _ = started_tx.send(());
                let _ = gate_rx.recv();
                Ok(x * x)
            });
            debug_assert_eq!(handle.id(), x, "gated ids must be the executor's next ids");
            handle
        })
        .collect();
    for _ in &handles {
        started_rx.recv()?;
    }
    Ok((gate_tx, handles))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_accounts_for_the_two_failures() {
        let row = errors(3).unwrap().row;
        assert!(row.correct, "{}", row.to_json());
        assert_eq!(row.extra["failed"], 2);
        assert_eq!(row.extra["finished"], ERROR_TASKS - 2);
    }

    #[test]
    fn timeout_reports_the_slow_tasks_once() {
        let row = timeout(2).unwrap().row;
        assert!(row.correct, "{}", row.to_json());
        assert_eq!(row.extra["timed_out_ids"], serde_json::json!([4, 5]));
        assert_eq!((row.expected, row.result), (6, 6));
    }

    #[test]
    fn cancel_cancels_exactly_what_waited() {
        for workers in [1, 3] {
            let row = cancel(workers).unwrap().row;
            assert!(row.correct, "{}", row.to_json());
            assert_eq!(row.extra["cancelled"], 3 * workers);
        }
    }
}
