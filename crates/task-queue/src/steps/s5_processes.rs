//! Step 5: several worker processes, as `celery worker --concurrency N` forks them: this binary
//! re-executed as `task-queue worker` (steps 3 and 4), watched, a killed one replaced, and all
//! of them stopped and reaped at the end, also on an error or Ctrl-C.
//!
//! Since step 4: one process becomes many. A worker killed with `kill -9` takes the jobs it
//! held with it until its heartbeat has been silent long enough; then the broker gives them to
//! another worker, and this step starts a replacement so that the number of workers holds.
//!
//! Re-executing the binary, not forking: after `fork` a child of a multithreaded process (the
//! demo runs a tokio runtime) may only call async-signal-safe functions until it execs, and a
//! worker is a whole tokio program. A fresh process is also exactly what a worker on another
//! machine is.

// ANCHOR: pattern
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How many unexpected worker exits the demo replaces before it gives up (a worker that
/// cannot reach the broker would otherwise be restarted forever).
const MAX_RESTARTS: usize = 8;

/// Why the worker processes could not be kept running.
#[derive(Debug, thiserror::Error)]
pub enum WorkersFailed {
    /// This program could not be found or started again.
    #[error("{what}: {source}")]
    Start {
        /// What was being done.
        what: &'static str,
        /// What the system said.
        source: std::io::Error,
    },
    /// A worker exited on its own with status 2 (the broker is not there), or too many did.
    #[error("a worker exited ({0}); see its error above")]
    KeptDying(ExitStatus),
}

pub(crate) fn start_error(what: &'static str) -> impl FnOnce(std::io::Error) -> WorkersFailed {
    move |source| WorkersFailed::Start { what, source }
}

/// The demo's worker processes.
#[derive(Debug)]
pub struct Workers {
    /// The running children.
    pub(crate) children: Vec<Child>,
    /// The arguments every worker gets (`worker --broker ...`).
    args: Vec<String>,
    /// Workers that died and were replaced.
    pub restarts: usize,
}

impl Workers {
    /// Starts `count` workers; the first also gets `first_extra` (fault injection).
    pub fn start(
        count: usize,
        args: Vec<String>,
        first_extra: &[String],
    ) -> Result<Self, WorkersFailed> {
        let mut workers = Self {
            children: Vec::with_capacity(count),
            args,
            restarts: 0,
        };
        for i in 0..count {
            let extra = if i == 0 { first_extra } else { &[] };
            workers.spawn(extra)?;
        }
        Ok(workers)
    }

    pub(crate) fn spawn(&mut self, extra: &[String]) -> Result<(), WorkersFailed> {
        let exe = std::env::current_exe().map_err(start_error("finding this program"))?;
        let child = Command::new(exe)
            .args(&self.args)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(start_error("starting a worker process"))?;
        self.children.push(child);
        Ok(())
    }

    /// Reaps workers that exited and starts replacements; fails when they keep dying.
    pub fn check(&mut self) -> Result<(), WorkersFailed> {
        // `try_wait` reaps a child that exited (no zombie); it stays in the list otherwise.
        let mut exited: Vec<ExitStatus> = Vec::new();
        self.children.retain_mut(|child| match child.try_wait() {
            Ok(Some(status)) => {
                exited.push(status);
                false
            }
            Ok(None) | Err(_) => true,
        });
        for status in exited {
            // Exit status 2 is the worker saying the broker is not there: no point restarting.
            if status.code() == Some(2) || self.restarts >= MAX_RESTARTS {
                return Err(WorkersFailed::KeptDying(status));
            }
            self.restarts += 1;
            self.spawn(&[])?;
        }
        Ok(())
    }

    /// Stops every worker: SIGTERM (each finishes its jobs in hand and hands the rest back),
    /// then SIGKILL for any still running after `grace`, and reaps them all.
    pub fn stop(&mut self, grace: Duration) {
        for child in &self.children {
            // A worker that already exited gives ESRCH; nothing to do then.
            let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
        }
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            self.children
                .retain_mut(|c| matches!(c.try_wait(), Ok(None)));
            if self.children.is_empty() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for mut child in self.children.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Workers {
    /// Whatever path the demo leaves by (an error, a panic), no worker outlives it.
    fn drop(&mut self) {
        self.stop(Duration::from_secs(5));
    }
}
// ANCHOR_END: pattern
