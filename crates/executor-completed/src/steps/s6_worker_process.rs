//! Step 6: the worker process: this program, re-executed, reading jobs on its stdin and
//! writing one reply per job on its stdout.
//!
//! Since step 5: a task has to cross a process boundary, and a closure cannot be written down a
//! pipe, so a task becomes a [`Job`](crate::job::Job): data naming a function the worker knows
//! (Python pickles the function by name for the same reason). The worker runs each job through
//! step 1's [`run_caught`], so an error or a panic is a reply, not a dead worker. Each job and
//! each reply is one line of text (`crate::plumbing::wire`): `strace` shows what crosses the
//! pipe, and at four small numbers a line, parsing is not what limits throughput.

// ANCHOR: pattern
use std::io::{self, BufRead, BufReader, Read, Write};

use super::s1_errors::run_caught;
use crate::plumbing::wire;

/// Set in a worker's environment by step 7; [`is_worker`] looks for it.
pub const WORKER_ENV: &str = "EXECUTOR_COMPLETED_WORKER";

/// Whether this process is a worker. An environment variable rather than a hidden subcommand,
/// so a stray word on the command line gets clap's usual error instead of being taken for one.
pub fn is_worker() -> bool {
    std::env::var_os(WORKER_ENV).is_some()
}

/// The worker's main loop on its own stdin and stdout: what `main` runs when [`is_worker`].
pub fn serve_stdio() -> io::Result<()> {
    serve(&mut BufReader::new(io::stdin().lock()), io::stdout().lock())
}

/// Runs every job line from `input` and writes a reply line for each to `output`, until `input`
/// ends: when the parent closes the pipe, or dies, the worker exits. A line that is not a job
/// ends it with an error.
///
/// Replies are buffered and flushed only when no further job is already buffered: with many
/// tiny jobs in flight, that is one `write` per batch instead of one per job; with one job at a
/// time, a flush after every job, so the parent never waits on a reply held back here.
pub fn serve<R: Read>(input: &mut BufReader<R>, output: impl Write) -> io::Result<()> {
    let mut output = io::BufWriter::new(output);
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return output.flush();
        }
        let parsed = wire::parse_job(&line);
        // ANCHOR_END: pattern
        if let Some((_, crate::job::Job::KillWorker)) = parsed {
            // `--kill-worker-during`: the replies so far go out, then the worker dies the hard
            // way, as the OOM killer would kill it: no unwinding.
            output.flush()?;
            nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL).map_err(io::Error::from)?;
            unreachable!("SIGKILL cannot be caught");
        }
        // ANCHOR: reply
        let reply = match parsed {
            Some((id, job)) => wire::reply_line(id, &run_caught(|| job.run())),
            None => {
                // No reply names a task it cannot read: any id would be a guess. The replies
                // before it go out, then the worker ends, and the parent reports the tasks it
                // still had as lost.
                output.flush()?;
                let bad = format!("bad request {:?}", line.trim_end());
                return Err(io::Error::new(io::ErrorKind::InvalidData, bad));
            }
        };
        output.write_all(reply.as_bytes())?;
        if input.buffer().is_empty() {
            output.flush()?;
        }
    }
}
// ANCHOR_END: reply

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Job;
    use crate::task::TaskError;

    #[test]
    fn serves_every_job_in_order() {
        let jobs = [
            wire::job_line(0, Job::Square { x: 4, sleep_ms: 0 }),
            wire::job_line(1, Job::Fail { x: 1 }),
            wire::job_line(2, Job::Square { x: 5, sleep_ms: 1 }),
        ]
        .concat();
        let mut out = Vec::new();
        serve(&mut BufReader::new(jobs.as_bytes()), &mut out).unwrap();
        let replies: Vec<_> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| wire::parse_reply(l).unwrap())
            .collect();
        assert_eq!(replies[0], (0, Ok(16)));
        assert!(matches!(replies[1], (1, Err(TaskError::Failed(_)))));
        assert_eq!(replies[2], (2, Ok(25)));
    }

    #[test]
    fn a_bad_request_ends_the_worker_after_the_replies_before_it() {
        let jobs = wire::job_line(4, Job::Square { x: 2, sleep_ms: 0 }) + "5 dance\n";
        let mut out = Vec::new();
        let err = serve(&mut BufReader::new(jobs.as_bytes()), &mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(String::from_utf8(out).unwrap(), "4 ok 4\n");
    }
}
