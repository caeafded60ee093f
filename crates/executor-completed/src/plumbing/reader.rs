//! The reader thread of one worker process: every reply on the worker's stdout becomes a
//! completion, and when the worker is gone (end of file) it is reaped and every task it still
//! had is reported lost (step 7). Its feeder, in the `feeder` module, writes the requests.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout};
use std::sync::{Mutex, PoisonError};

use crossbeam_channel::{Receiver, Sender};

use super::wire::parse_reply;
use crate::task::{Completion, TaskError, TaskId};

/// What a feeder and a reader share about one live worker process.
#[derive(Default)]
pub(crate) struct InFlight {
    /// Tasks written to the worker and not yet answered, oldest first, with their start rank.
    pub tasks: VecDeque<(TaskId, u64)>,
    /// Set by the reader when the worker is gone; the feeder then starts a new one.
    pub dead: bool,
}

/// The reader: every reply becomes a completion. At end of file the worker is reaped and any
/// task it still had is reported lost; so it is after a reply that cannot be trusted, but the
/// worker is killed first.
pub(crate) fn read_replies(
    mut child: Child,
    stdout: ChildStdout,
    in_flight: &Mutex<InFlight>,
    credits: &Receiver<()>,
    done_tx: &Sender<Completion>,
) {
    let broken = relay_replies(BufReader::new(stdout), in_flight, credits, done_tx);
    if broken.is_some() {
        // The worker may well be alive, waiting for jobs or blocked writing replies nobody
        // reads: waiting for it to exit would wait forever, with its feeder still handing it
        // work and `as_completed` waiting for tasks it will never hear of. Killing it (by the
        // reaper, which signals only a pid not yet reaped) makes it end like a crashed worker:
        // its tasks are reported lost below, and its feeder, whose credits this thread drops on
        // return, starts a replacement.
        reaper::kill(reaper::pid_of(&child));
    }
    report_lost(&mut child, in_flight, done_tx, broken.as_deref());
}

// ANCHOR: relay
/// Sends a completion for each reply, until end of file (`None`) or a reply that cannot be
/// trusted (`Some(what it was)`): bytes that are not UTF-8, a line that does not parse, or a
/// reply for a task the worker does not have. Skipping such a line instead would leave its task
/// unanswered for good, and its credit taken.
fn relay_replies(
    mut lines: impl BufRead,
    in_flight: &Mutex<InFlight>,
    credits: &Receiver<()>,
    done_tx: &Sender<Completion>,
) -> Option<String> {
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(err) => return Some(format!("an unreadable reply ({err})")),
        }
        let Some((id, outcome)) = parse_reply(&line) else {
            return Some(format!(
                "a reply that does not parse: {:?}",
                line.trim_end()
            ));
        };
        let Some(start_rank) = answered(in_flight, id) else {
            return Some(format!("a reply for task {id}, which it did not have"));
        };
        let start_rank = Some(start_rank);
        let _ = done_tx.send(Completion {
            id,
            start_rank,
            outcome,
        });
        // Give the credit back; the feeder always took one for this task.
        let _ = credits.try_recv();
    }
}
// ANCHOR_END: relay

/// Takes task `id` off the worker's list and returns its start rank.
fn answered(in_flight: &Mutex<InFlight>, id: TaskId) -> Option<u64> {
    let mut in_flight = in_flight.lock().unwrap_or_else(PoisonError::into_inner);
    let at = in_flight.tasks.iter().position(|&(t, _)| t == id)?;
    in_flight.tasks.remove(at).map(|(_, rank)| rank)
}

/// The worker is gone, or was killed for `broken`: reaps it, marks it dead for its feeder, and
/// reports every task it still had as lost, saying how it ended.
fn report_lost(
    child: &mut Child,
    in_flight: &Mutex<InFlight>,
    done_tx: &Sender<Completion>,
    broken: Option<&str>,
) {
    // Untracked and reaped in one locked step, so Ctrl-C never signals a recycled pid.
    let status = reaper::wait_child(child)
        .map_or_else(|err| format!("status unknown: {err}"), |s| s.to_string());
    let lost = {
        let mut in_flight = in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        in_flight.dead = true;
        std::mem::take(&mut in_flight.tasks)
    };
    let pid = child.id();
    let why = match broken {
        None => format!("worker process {pid} ended ({status}) while it had the task"),
        Some(what) => format!("worker process {pid} sent {what}, so it was killed ({status})"),
    };
    for (id, rank) in lost {
        let _ = done_tx.send(Completion {
            id,
            start_rank: Some(rank),
            outcome: Err(TaskError::WorkerLost(why.clone())),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relays `replies` to a worker holding tasks 3 and 4 (window 2): what it stopped on, and
    /// the ids it reported.
    fn relay(replies: &[u8]) -> (Option<String>, Vec<TaskId>, Vec<TaskId>) {
        let tasks = VecDeque::from([(3, 0), (4, 1)]);
        let in_flight = Mutex::new(InFlight { tasks, dead: false });
        let (credits_tx, credits) = crossbeam_channel::bounded(2);
        credits_tx.send(()).unwrap();
        credits_tx.send(()).unwrap();
        let (done_tx, done_rx) = crossbeam_channel::unbounded();
        let broken = relay_replies(replies, &in_flight, &credits, &done_tx);
        let done = done_rx.try_iter().map(|c| c.id).collect();
        let left = in_flight.into_inner().unwrap().tasks;
        (broken, done, left.into_iter().map(|(id, _)| id).collect())
    }

    #[test]
    fn stops_at_the_first_reply_it_cannot_trust() {
        assert_eq!(relay(b"4 ok 16\n3 ok 9\n"), (None, vec![4, 3], vec![]));
        for bad in [
            &b"3 ok 9\n4 ok \xff\n"[..],
            b"3 ok 9\n4 garbled\n",
            b"3 ok 9\n5 ok 25\n",
        ] {
            let (broken, done, left) = relay(bad);
            assert!(broken.is_some(), "{bad:?}");
            assert_eq!((done, left), (vec![3], vec![4]), "{bad:?}");
        }
    }
}
