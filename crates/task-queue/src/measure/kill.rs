//! Fault injection for the demo's `--kill-after`: the first worker killed with `kill -9` while
//! the batch runs, to show that its jobs are not lost. Kept out of step 5, which is the pattern.

use crate::steps::s5_processes::{Workers, WorkersFailed, start_error};

impl Workers {
    /// Kills the first worker with SIGKILL, a real `kill -9` that gives it no chance to hand
    /// its jobs back, reaps it and starts a replacement. Reaping it here, rather than leaving
    /// its exit to [`Workers::check`], makes the restart certain to be counted even when the
    /// last jobs finish right after the kill.
    pub fn kill_first(&mut self) -> Result<(), WorkersFailed> {
        if self.children.is_empty() {
            return Ok(());
        }
        let mut child = self.children.remove(0);
        // `kill` fails only when the child was already reaped, which only `check` does, and
        // it then left the list; `wait` reaps it either way.
        let _ = child.kill();
        child
            .wait()
            .map_err(start_error("reaping the killed worker"))?;
        self.restarts += 1;
        self.spawn(&[])
    }
}
