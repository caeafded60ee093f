//! Every live worker process, so that Ctrl-C can kill them all: the one piece of global state
//! in the lesson, and why it exists.
//!
//! A worker's pid is added under the lock in the same breath as the spawn, and removed under
//! the lock in the same breath as the reaping. So the Ctrl-C handler, which takes the lock, can
//! neither miss a worker that was just started nor signal a pid the OS has already reused.

use std::io;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Mutex, MutexGuard, PoisonError};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

/// The pids of every worker started and not yet reaped, so a Ctrl-C can kill them all.
struct Registry {
    /// Live (unreaped) worker pids. A pid leaves the list only while the lock is held during
    /// its reaping, so the list never names a pid the OS could have reused.
    pids: Vec<u32>,
    /// Set by [`exit_killing_workers`]: no worker may start after it.
    closed: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    pids: Vec::new(),
    closed: false,
});

fn registry() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock cannot leave a half-edited Vec of pids; keep using it.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Kills and reaps every worker process still running, then exits the program with `code`.
/// Meant for the Ctrl-C handler.
///
/// It exits while still holding the registry lock: a pool thread that sees its worker die
/// blocks on that lock (to reap or replace it) and so never reports the death as a failure
/// of its own, racing our exit status.
pub fn exit_killing_workers(code: i32) -> ! {
    let mut registry = registry();
    registry.closed = true;
    for pid in registry.pids.drain(..) {
        let pid = Pid::from_raw(pid as i32);
        // Both can only fail if the worker is already gone, which is what we want.
        let _ = kill(pid, Signal::SIGKILL);
        let _ = waitpid(pid, None);
    }
    std::process::exit(code)
}

/// Starts `command` and registers the child, atomically with respect to Ctrl-C.
pub(super) fn spawn(command: &mut Command) -> io::Result<Child> {
    let mut registry = registry();
    if registry.closed {
        return Err(io::Error::other("shutting down"));
    }
    let child = command.spawn()?;
    registry.pids.push(child.id());
    Ok(child)
}

/// Kills `child` first if `force`, then waits for it and unregisters it.
pub(super) fn reap(child: &mut Child, force: bool) -> io::Result<ExitStatus> {
    let mut registry = registry();
    if force {
        let _ = child.kill(); // fails only if it already exited
    }
    let status = child.wait();
    let id = child.id();
    registry.pids.retain(|&pid| pid != id);
    status
}
