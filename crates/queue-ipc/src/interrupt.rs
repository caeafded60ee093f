//! Ctrl-C and SIGTERM: the parent ends every child it started, and then itself.
//!
//! The children are killed from a handler, which needs to know their pids: every child is
//! started through `spawn_unless_interrupted`, which records its pid, and leaves the record
//! through `forget` just before it is reaped.

use std::io;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Pids of the children that are running or exited but not yet reaped. The interrupt handler
/// kills every one of them. A pid leaves this list only while its child is a zombie (exited, not
/// yet reaped), so the pid cannot have been reused by an unrelated process when the handler
/// sends its signal.
static LIVE: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Set once by the Ctrl-C / SIGTERM handler. Spawning checks it under the `LIVE` lock and the
/// handler sets it before taking that lock, so either the spawner sees the flag (and does not
/// spawn) or the handler sees the new pid (and kills it): the mutex orders the two.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C / SIGTERM / SIGHUP handler of the parent: it kills every child, which
/// unblocks whatever the parent was waiting on (a read sees end of file, a wait returns), so the
/// parent's own code path removes the segments and reaps the children, and the run ends with
/// status 130. If the parent is somehow still running three seconds later, the handler removes
/// the segments itself and exits.
///
/// When no child is running, the main thread is doing the parent's own work (reserving a
/// segment, checking the array, timing `memcpy`), which checks no flag: waiting for it would
/// keep the user three seconds for nothing. The handler then removes the segments and exits at
/// once, still holding the `LIVE` lock, so no child can be started between the check and the
/// exit.
///
/// `ctrlc` runs the handler on its own thread (the real signal handler only writes to a pipe), so
/// the handler may lock and allocate, which a real signal handler must never do.
pub fn stop_children_on_interrupt() -> anyhow::Result<()> {
    ctrlc::set_handler(|| {
        // Relaxed: the `LIVE` lock below orders it against `spawn` (see `INTERRUPTED`), and the
        // main thread learns of it after the kills below end its children.
        INTERRUPTED.store(true, Ordering::Relaxed);
        {
            let live = lock_live();
            for &pid in live.iter() {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            if live.is_empty() {
                crate::shm::unlink_all_registered();
                eprintln!("error: interrupted: no child was running, no shared memory left");
                std::process::exit(130);
            }
        }
        std::thread::sleep(Duration::from_secs(3));
        crate::shm::unlink_all_registered();
        std::process::exit(130);
    })
    .context("installing the Ctrl-C handler")
}

/// Whether the user interrupted the run (Ctrl-C, SIGTERM).
pub fn interrupted() -> bool {
    // Relaxed: the handler killed our children after storing it; we ask only once we have seen a
    // child end, and a late answer costs nothing but a less precise message.
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Spawns `command` and records the child's pid, unless the run was interrupted: then it
/// refuses, since the handler has already done its killing.
pub(crate) fn spawn_unless_interrupted(command: &mut Command) -> io::Result<(Child, i32)> {
    let mut live = lock_live();
    // Relaxed is enough: the `LIVE` mutex orders this load against the handler's store.
    if INTERRUPTED.load(Ordering::Relaxed) {
        return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
    }
    let child = command.spawn()?;
    let pid = i32::try_from(child.id()).expect("a Linux pid fits in pid_t");
    live.push(pid);
    Ok((child, pid))
}

/// Takes `pid` off the kill list: call it once the child has exited, before reaping it.
pub(crate) fn forget(pid: i32) {
    lock_live().retain(|&p| p != pid);
}

/// The lock guards a `Vec` that is only pushed to and filtered, which cannot leave it half
/// changed, so a poisoned lock (a panic elsewhere while held) still guards valid data.
fn lock_live() -> std::sync::MutexGuard<'static, Vec<i32>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spawned_child_is_on_the_kill_list_until_forgotten() {
        let (mut child, pid) = spawn_unless_interrupted(&mut Command::new("true")).unwrap();
        assert!(lock_live().contains(&pid));
        child.wait().unwrap();
        forget(pid);
        assert!(!lock_live().contains(&pid));
    }
}
