//! The demo's tasks as data: what the variants run on threads (inside a closure) and what step
//! 6 sends down a worker process's pipe, where a closure cannot go (Python pickles the function
//! by name for the same reason). A module of its own, importing no step, because the steps, the
//! pipe formats (`crate::plumbing::wire`) and the measuring all name it.

use std::time::Duration;

/// One task as data: the tutorial's `square`, slowed down or made to fail on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Sleeps `sleep_ms`, then returns `x * x`; with `sleep_ms = 0`, a trivial task.
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
    /// killer would (step 7 shows what the pool does then). On a thread it is an error.
    KillWorker,
}

impl Job {
    /// Runs the job where it stands.
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_and_fail() {
        assert_eq!(Job::Square { x: 9, sleep_ms: 0 }.run(), Ok(81));
        assert!(Job::Fail { x: 9 }.run().unwrap_err().contains('9'));
    }
}
