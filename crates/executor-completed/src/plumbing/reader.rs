//! The reader thread of one worker process: every reply on the worker's stdout becomes a
//! completion, and when the worker is gone (end of file) it is reaped and every task it still
//! had is reported lost (step 7). Its feeder, in the `feeder` module, writes the requests.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout};
use std::sync::{Mutex, PoisonError};

use crossbeam_channel::{Receiver, Sender};

use super::wire::parse_reply;
use crate::steps::s1_submit::{Completion, TaskId};
use crate::steps::s3_errors::TaskError;

/// What a feeder and a reader share about one live worker process.
#[derive(Default)]
pub(crate) struct InFlight {
    /// Tasks written to the worker and not yet answered, oldest first, with their start rank.
    pub tasks: VecDeque<(TaskId, u64)>,
    /// Set by the reader when the worker is gone; the feeder then starts a new one.
    pub dead: bool,
}

/// The reader: every reply becomes a completion; at end-of-file the worker is reaped and any
/// task it still had is reported lost.
pub(crate) fn read_replies(
    mut child: Child,
    stdout: ChildStdout,
    in_flight: &Mutex<InFlight>,
    credits: &Receiver<()>,
    done_tx: &Sender<Completion>,
) {
    let mut lines = BufReader::new(stdout);
    let mut line = String::new();
    while matches!(lines.read_line(&mut line), Ok(n) if n > 0) {
        if let Some((id, outcome)) = parse_reply(&line) {
            let start_rank = answered(in_flight, id);
            let _ = done_tx.send(Completion {
                id,
                start_rank,
                outcome,
            });
            // Give the credit back; the feeder always took one for this task.
            let _ = credits.try_recv();
        }
        line.clear();
    }
    report_lost(&mut child, in_flight, done_tx);
}

/// Takes task `id` off the worker's list and returns its start rank.
fn answered(in_flight: &Mutex<InFlight>, id: TaskId) -> Option<u64> {
    let mut in_flight = in_flight.lock().unwrap_or_else(PoisonError::into_inner);
    let at = in_flight.tasks.iter().position(|&(t, _)| t == id)?;
    in_flight.tasks.remove(at).map(|(_, rank)| rank)
}

/// The worker is gone: reaps it, marks it dead for its feeder, and reports every task it still
/// had as lost, saying how it ended.
fn report_lost(child: &mut Child, in_flight: &Mutex<InFlight>, done_tx: &Sender<Completion>) {
    // Untracked and reaped in one locked step, so Ctrl-C never signals a recycled pid.
    let status = reaper::wait_child(child)
        .map_or_else(|err| format!("status unknown: {err}"), |s| s.to_string());
    let lost = {
        let mut in_flight = in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        in_flight.dead = true;
        std::mem::take(&mut in_flight.tasks)
    };
    for (id, rank) in lost {
        let _ = done_tx.send(Completion {
            id,
            start_rank: Some(rank),
            outcome: Err(TaskError::WorkerLost(format!(
                "worker process {} ended ({status}) while it had the task",
                child.id()
            ))),
        });
    }
}
