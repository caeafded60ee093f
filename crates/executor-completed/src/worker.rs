//! The worker process: the same binary, re-executed with the hidden `worker` subcommand, reading
//! request lines on stdin and writing one reply line per task on stdout.
//!
//! Re-executing the program (Python's "spawn" start method) rather than `fork`ing it: the parent
//! has threads by the time it starts workers, and a forked child of a threaded process may only
//! call async-signal-safe functions (no allocation, no locks) until it execs. A fresh process has
//! none of that baggage, and its only link to the parent is two pipes, which is also how it
//! notices the parent is gone: stdin reaches end-of-file and the worker exits.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

use nix::sys::signal::{Signal, raise};

use crate::completion::{TaskError, TaskId};
use crate::job::Job;

/// The hidden subcommand the parent runs its workers with.
pub const WORKER_COMMAND: &str = "worker";

/// The worker's main loop on its own stdin and stdout.
pub fn serve_stdio() -> io::Result<()> {
    serve(&mut BufReader::new(io::stdin().lock()), io::stdout().lock())
}

/// Runs every request line from `input`, writing a reply line for each to `output`, until
/// `input` ends.
///
/// Replies are buffered and flushed only when no further request is already buffered: with many
/// tiny tasks in flight that is one `write` per batch instead of one per task, and with one task
/// at a time it is a flush after every task, so the parent never waits on a reply we hold back.
pub fn serve<R: Read>(input: &mut BufReader<R>, output: impl Write) -> io::Result<()> {
    let mut output = io::BufWriter::new(output);
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return output.flush();
        }
        let reply = match Job::from_line(&line) {
            Some((_, Job::KillWorker)) => {
                // Die the hard way, as the OOM killer would kill us: no unwinding, no flush.
                output.flush()?;
                raise(Signal::SIGKILL).map_err(io::Error::from)?;
                unreachable!("SIGKILL cannot be caught");
            }
            Some((id, job)) => reply_line(id, &run_caught(job)),
            None => format!("0 failed bad request {:?}\n", line.trim_end()),
        };
        output.write_all(reply.as_bytes())?;
        if input.buffer().is_empty() {
            output.flush()?;
        }
    }
}

/// Runs `job`, turning a panic into the task's error so the worker process survives it.
fn run_caught(job: Job) -> Result<u64, TaskError> {
    // `AssertUnwindSafe`: the job is a plain value consumed by the call; nothing it touched is
    // observed after a panic.
    match catch_unwind(AssertUnwindSafe(|| job.run())) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(msg)) => Err(TaskError::Failed(msg)),
        Err(payload) => Err(TaskError::Panicked(reaper::panic_message(payload.as_ref()))),
    }
}

/// One reply line: `<id> ok <value>`, `<id> failed <message>` or `<id> panicked <message>`.
pub fn reply_line(id: TaskId, outcome: &Result<u64, TaskError>) -> String {
    // Messages go on one line: a newline inside one would split the reply in two.
    let flat = |msg: &str| msg.replace('\n', " ");
    match outcome {
        Ok(value) => format!("{id} ok {value}\n"),
        Err(TaskError::Panicked(msg)) => format!("{id} panicked {}\n", flat(msg)),
        Err(other) => format!("{id} failed {}\n", flat(&other.to_string())),
    }
}

/// Parses a reply line written by [`reply_line`].
pub fn parse_reply(line: &str) -> Option<(TaskId, Result<u64, TaskError>)> {
    let mut parts = line.trim_end().splitn(3, ' ');
    let id = parts.next()?.parse().ok()?;
    let kind = parts.next()?;
    let rest = parts.next().unwrap_or("").to_string();
    let outcome = match kind {
        "ok" => Ok(rest.parse().ok()?),
        "panicked" => Err(TaskError::Panicked(rest)),
        "failed" => Err(TaskError::Failed(rest)),
        _ => return None,
    };
    Some((id, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_every_request_in_order() {
        let requests = [
            Job::Square { x: 4, sleep_ms: 0 }.to_line(0),
            Job::Fail { x: 1 }.to_line(1),
            Job::Square { x: 5, sleep_ms: 1 }.to_line(2),
        ]
        .concat();
        let mut out = Vec::new();
        serve(&mut BufReader::new(requests.as_bytes()), &mut out).unwrap();
        let replies: Vec<_> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| parse_reply(l).unwrap())
            .collect();
        assert_eq!(replies[0], (0, Ok(16)));
        assert!(matches!(replies[1], (1, Err(TaskError::Failed(_)))));
        assert_eq!(replies[2], (2, Ok(25)));
    }

    #[test]
    fn replies_round_trip() {
        let panicked = Err(TaskError::Panicked("boom\nagain".into()));
        assert_eq!(
            parse_reply(&reply_line(3, &panicked)),
            Some((3, Err(TaskError::Panicked("boom again".into()))))
        );
        assert_eq!(parse_reply(&reply_line(8, &Ok(64))), Some((8, Ok(64))));
        assert_eq!(parse_reply("x ok 1"), None);
    }
}
