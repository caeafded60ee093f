//! The tasks the variants submit, as data, so the same task can run on a thread or be written
//! down a pipe to a worker process (Python pickles the function for the same reason).

use std::time::Duration;

use crate::completion::TaskId;

/// One task: the tutorial's `square`, slowed down or made to fail on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Sleeps `sleep_ms`, then returns `x * x`. With `sleep_ms = 0` it is the trivial task the
    /// throughput figures use.
    Square {
        /// The input.
        x: u64,
        /// How long the task takes, so lengths can differ on purpose.
        sleep_ms: u64,
    },
    /// Returns an error instead of a value (Python: the function raises).
    Fail {
        /// The input, named in the error.
        x: u64,
    },
    /// Panics (Python has no panic; an uncaught exception is the nearest thing).
    Panic {
        /// The input, named in the panic message.
        x: u64,
    },
    /// Makes the worker *process* running it kill itself with SIGKILL, as the kernel's OOM
    /// killer would. Only a worker process acts on it; on a thread it is an error.
    KillWorker,
}

impl Job {
    /// Runs the task where it stands.
    pub fn run(self) -> Result<u64, String> {
        match self {
            Self::Square { x, sleep_ms } => {
                if sleep_ms > 0 {
                    std::thread::sleep(Duration::from_millis(sleep_ms));
                }
                Ok(x * x)
            }
            Self::Fail { x } => Err(format!("task with input {x} refused it on purpose")),
            Self::Panic { x } => panic!("task with input {x} panicked on purpose"),
            Self::KillWorker => Err("only a worker process can be killed".to_string()),
        }
    }

    /// The job as one request line for a worker process: `<id> <kind> <x> <sleep_ms>`.
    ///
    /// Plain text rather than JSON or bincode: a reader can watch the pipe with `strace` and
    /// read it, and at four small numbers per line parsing is not what limits throughput.
    pub fn to_line(self, id: TaskId) -> String {
        match self {
            Self::Square { x, sleep_ms } => format!("{id} square {x} {sleep_ms}\n"),
            Self::Fail { x } => format!("{id} fail {x} 0\n"),
            Self::Panic { x } => format!("{id} panic {x} 0\n"),
            Self::KillWorker => format!("{id} kill 0 0\n"),
        }
    }

    /// Parses a request line written by [`to_line`](Self::to_line).
    pub fn from_line(line: &str) -> Option<(TaskId, Job)> {
        let mut words = line.split_ascii_whitespace();
        let id = words.next()?.parse().ok()?;
        let kind = words.next()?;
        let x = words.next()?.parse().ok()?;
        let sleep_ms = words.next()?.parse().ok()?;
        let job = match kind {
            "square" => Self::Square { x, sleep_ms },
            "fail" => Self::Fail { x },
            "panic" => Self::Panic { x },
            "kill" => Self::KillWorker,
            _ => return None,
        };
        Some((id, job))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip() {
        for job in [
            Job::Square {
                x: 12,
                sleep_ms: 40,
            },
            Job::Fail { x: 3 },
            Job::Panic { x: 5 },
            Job::KillWorker,
        ] {
            assert_eq!(Job::from_line(&job.to_line(77)), Some((77, job)));
        }
        assert_eq!(Job::from_line("1 square x 0"), None);
        assert_eq!(Job::from_line("1 dance 2 0"), None);
    }

    #[test]
    fn square_and_fail() {
        assert_eq!(Job::Square { x: 9, sleep_ms: 0 }.run(), Ok(81));
        assert!(Job::Fail { x: 9 }.run().unwrap_err().contains('9'));
    }
}
