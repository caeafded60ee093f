//! What crosses a worker process's pipes, one line each: a job (`<id> <kind> <x> <sleep_ms>`)
//! down its stdin, a reply (`<id> ok <value>`, `<id> failed <message>`, `<id> panicked
//! <message>`) up its stdout. Plain text rather than JSON or bincode: a reader can watch the
//! pipe with `strace` and read it.

use crate::job::Job;
use crate::task::{TaskError, TaskId};

/// The job as one line for a worker process.
pub(crate) fn job_line(id: TaskId, job: Job) -> String {
    match job {
        Job::Square { x, sleep_ms } => format!("{id} square {x} {sleep_ms}\n"),
        Job::Fail { x } => format!("{id} fail {x} 0\n"),
        Job::Panic { x } => format!("{id} panic {x} 0\n"),
        Job::KillWorker => format!("{id} kill 0 0\n"),
    }
}

/// Parses a line written by [`job_line`].
pub(crate) fn parse_job(line: &str) -> Option<(TaskId, Job)> {
    let mut words = line.split_ascii_whitespace();
    let id = words.next()?.parse().ok()?;
    let kind = words.next()?;
    let x = words.next()?.parse().ok()?;
    let sleep_ms = words.next()?.parse().ok()?;
    let job = match kind {
        "square" => Job::Square { x, sleep_ms },
        "fail" => Job::Fail { x },
        "panic" => Job::Panic { x },
        "kill" => Job::KillWorker,
        _ => return None,
    };
    Some((id, job))
}

/// One reply line.
pub(crate) fn reply_line(id: TaskId, outcome: &Result<u64, TaskError>) -> String {
    // Messages go on one line: a newline inside one would split the reply in two.
    let flat = |msg: &str| msg.replace('\n', " ");
    match outcome {
        Ok(value) => format!("{id} ok {value}\n"),
        Err(TaskError::Panicked(msg)) => format!("{id} panicked {}\n", flat(msg)),
        Err(other) => format!("{id} failed {}\n", flat(&other.to_string())),
    }
}

/// Parses a line written by [`reply_line`].
pub(crate) fn parse_reply(line: &str) -> Option<(TaskId, Result<u64, TaskError>)> {
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
    fn jobs_round_trip() {
        for job in [
            Job::Square {
                x: 12,
                sleep_ms: 40,
            },
            Job::Fail { x: 3 },
            Job::Panic { x: 5 },
            Job::KillWorker,
        ] {
            assert_eq!(parse_job(&job_line(77, job)), Some((77, job)));
        }
        assert_eq!(parse_job("1 square x 0"), None);
        assert_eq!(parse_job("1 dance 2 0"), None);
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
