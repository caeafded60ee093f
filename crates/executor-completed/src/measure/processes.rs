//! The `processes-as-completed` variant (step 7): the same uneven tasks and trivial ones as on
//! threads, over worker processes, with a worker killed mid-task when asked.

use timing::{Mechanism, Stopwatch};

use super::Measured;
use super::as_completed::{DEMO_TASKS, demo_sleep_ms, finish};
use super::tally::Tally;
use crate::job::Job;
use crate::steps::s7_process_pool::ProcessExecutor;
use crate::task::Handle;

/// Tasks a process worker may have in flight in the demo: one, so a short task never waits
/// inside a busy worker's pipe behind a long one.
pub const DEMO_WINDOW: usize = 1;

/// Tasks a process worker may have in flight in the throughput run: enough that one `write`
/// carries many tasks and the pipe round trip is hidden.
pub const THROUGHPUT_WINDOW: usize = 64;

/// `processes-as-completed`: the same API over worker processes, like `ProcessPoolExecutor`.
///
/// The demo runs with one task in flight per worker, the throughput part on a second pool with
/// [`THROUGHPUT_WINDOW`]. `kill_during`, when set, makes the worker process running that demo
/// task die by SIGKILL: that task is reported failed ([`TaskError::WorkerLost`]), a replacement
/// worker starts, everything else still finishes, and the row is correct when exactly that task
/// failed.
///
/// [`TaskError::WorkerLost`]: crate::TaskError::WorkerLost
pub fn processes_as_completed(
    workers: usize,
    tasks: u64,
    kill_during: Option<u64>,
) -> anyhow::Result<Measured> {
    let mut tally = Tally::default();
    let replaced = uneven_on_processes(workers, kill_during, &mut tally)?;
    let mut executor = ProcessExecutor::new(workers, THROUGHPUT_WINDOW)?;
    let watch = Stopwatch::start();
    let handles: Vec<Handle> = (DEMO_TASKS..DEMO_TASKS + tasks)
        .map(|x| executor.submit(Job::Square { x, sleep_ms: 0 }))
        .collect();
    executor.as_completed(handles).for_each(|mut done| {
        // A second pool numbers its tasks from 0 again; shift them past the demo's ids so one
        // tally holds both without a clash (each task's input, like its id, starts at 8).
        done.id += DEMO_TASKS;
        tally.record(done);
    });
    let wall = watch.elapsed();
    let replaced = replaced + executor.shutdown()?;
    let want_failed: Vec<u64> = kill_during.into_iter().collect();
    let submitted = DEMO_TASKS + tasks;
    let row = tally.row(
        "processes-as-completed",
        Mechanism::Processes,
        workers,
        submitted,
    );
    let row = row.extra("workers_replaced", replaced);
    let pool = (Some(THROUGHPUT_WINDOW), replaced);
    Ok(finish(row, &tally, (tasks, wall), &want_failed, pool))
}

/// The demo on a pool of its own, one job in flight per worker; `kill_during` replaces that
/// task with one that kills its worker. Returns how many workers were replaced.
fn uneven_on_processes(
    workers: usize,
    kill_during: Option<u64>,
    tally: &mut Tally,
) -> anyhow::Result<usize> {
    let mut executor = ProcessExecutor::new(workers, DEMO_WINDOW)?;
    let demo: Vec<Handle> = (0..DEMO_TASKS)
        .map(|x| match kill_during {
            Some(victim) if victim == x => executor.submit(Job::KillWorker),
            _ => executor.submit(Job::Square {
                x,
                sleep_ms: demo_sleep_ms(x),
            }),
        })
        .collect();
    executor
        .as_completed(demo)
        .for_each(|done| tally.record(done));
    Ok(executor.shutdown()?)
}
