//! The register of live worker processes, and the Ctrl-C handler that kills and reaps them, so
//! no worker outlives an interrupted run.

use std::sync::{Mutex, MutexGuard, PoisonError};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

/// Every live worker process's pid, so the Ctrl-C handler can kill them. A pid is added under
/// the lock in the same breath as the spawn, and removed *before* the child is reaped: while it
/// is listed it is alive or a zombie, never a recycled pid belonging to someone else.
static WORKER_PIDS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// On Ctrl-C (and SIGTERM, SIGHUP): kill and reap every worker process, then exit with 130.
///
/// A Ctrl-C typed in a terminal reaches the workers as well (they share the foreground process
/// group), but a signal sent to the parent alone does not; without this the workers would run
/// until their stdin closed, and nobody might reap them.
pub fn kill_workers_on_interrupt() -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(|| {
        // Held until exit, so no worker can be spawned or reaped behind our back.
        let pids = WORKER_PIDS.lock().unwrap_or_else(PoisonError::into_inner);
        for &pid in pids.iter() {
            // Errors mean it already exited (or was reaped): nothing left to do for it.
            let _ = kill(nix_pid(pid), Signal::SIGKILL);
            let _ = waitpid(nix_pid(pid), None);
        }
        eprintln!("interrupted: {} worker process(es) stopped", pids.len());
        std::process::exit(130);
    })
}

/// The register, locked.
pub(crate) fn registry() -> MutexGuard<'static, Vec<u32>> {
    // The list is a plain Vec, consistent even if a holder panicked: keep using it.
    WORKER_PIDS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `Child::id` is the kernel's `pid_t` (an `i32`) widened to `u32`, so narrowing it back is exact.
pub(crate) fn nix_pid(pid: u32) -> Pid {
    Pid::from_raw(pid as i32)
}

/// Takes `pid` off the register; call it *before* reaping the process.
pub(crate) fn deregister(pid: u32) {
    registry().retain(|&p| p != pid);
}
