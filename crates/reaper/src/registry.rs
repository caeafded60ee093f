//! The registry: every child's pid from the moment it exists until the step that reaps it.
//! The crate docs give the rules and why each exists; this file keeps them.

use std::io;
use std::process::{Child, Command, ExitStatus};
use std::sync::{Mutex, MutexGuard, PoisonError};

use nix::errno::Errno;
use nix::sys::signal::{self, Signal};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid, waitpid};
use nix::unistd::Pid;

use crate::Error;

/// The children of one process. The binary uses the one global instance through the free
/// functions of this crate; the unit tests make their own, so they cannot disturb each other.
pub(crate) struct Registry {
    state: Mutex<State>,
}

/// What the lock guards: checking and changing it is always one step.
pub(crate) struct State {
    /// Started and not yet reaped: alive, or a zombie that still owns its pid.
    pids: Vec<Pid>,
    /// Set by the Ctrl-C handler and by [`kill_all`](crate::kill_all): no child may start after it.
    closed: bool,
    /// What the Ctrl-C handler runs once every child is reaped.
    pub(crate) hooks: Vec<fn()>,
}

/// The process's registry: the one the Ctrl-C handler empties.
pub(crate) static REGISTRY: Registry = Registry::new();

impl Registry {
    pub(crate) const fn new() -> Self {
        Self {
            state: Mutex::new(State {
                pids: Vec::new(),
                closed: false,
                hooks: Vec::new(),
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // Every change to the state is a single push, retain or assignment, so a holder that
        // panicked cannot have left it half-changed: poisoning is safe to ignore.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn starting(&self) -> Result<Starting<'_>, Error> {
        let state = self.lock();
        if state.closed {
            return Err(Error::Interrupted);
        }
        Ok(Starting(state))
    }

    pub(crate) fn spawn(&self, command: &mut Command) -> Result<Child, Error> {
        let mut starting = self.starting()?;
        let child = command.spawn().map_err(Error::Spawn)?;
        starting.track_child(&child);
        Ok(child)
    }

    pub(crate) fn wait(&self, pid: Pid) -> Result<WaitStatus, Error> {
        let exited = wait_for_exit(pid);
        let mut state = self.lock();
        // Off the list whatever happened: a pid we cannot wait for is not ours to signal.
        state.pids.retain(|&p| p != pid);
        exited.map_err(|errno| Error::wait(pid, errno))?;
        retry(|| waitpid(pid, None)).map_err(|errno| Error::wait(pid, errno))
    }

    pub(crate) fn wait_child(&self, child: &mut Child) -> Result<ExitStatus, Error> {
        let pid = pid_of(child);
        // ECHILD: std reaped it already (an earlier `wait`), and `Child::wait` below returns
        // the status it kept. Anything else would make that `wait` block under the lock.
        match wait_for_exit(pid) {
            Ok(()) | Err(Errno::ECHILD) => {}
            Err(errno) => return Err(Error::wait(pid, errno)),
        }
        let mut state = self.lock();
        state.pids.retain(|&p| p != pid);
        child.wait().map_err(|source| Error::Wait { pid, source })
    }

    pub(crate) fn kill(&self, pid: Pid) {
        let state = self.lock();
        if state.pids.contains(&pid) {
            // Fails only if it already exited: a zombie, which the reaping step collects.
            let _ = signal::kill(pid, Signal::SIGKILL);
        }
    }

    pub(crate) fn kill_all(&self) -> usize {
        end_every_child(&mut self.lock())
    }
}

/// Closes the registry, SIGKILLs every listed child, then reaps each. Called with the lock held
/// by [`kill_all`](crate::kill_all) and by the Ctrl-C handler.
pub(crate) fn end_every_child(state: &mut State) -> usize {
    state.closed = true;
    for &pid in &state.pids {
        // Listed, so not yet reaped: our child, alive or a zombie, never a stranger.
        let _ = signal::kill(pid, Signal::SIGKILL);
    }
    for &pid in &state.pids {
        // SIGKILL cannot be caught, so this returns; an error means there is nothing to reap.
        let _ = retry(|| waitpid(pid, None));
    }
    let ended = state.pids.len();
    state.pids.clear();
    ended
}

/// The registry held while one child is started, so that the Ctrl-C handler sees either no
/// child or a tracked one, never a child it cannot know of. Get it from [`starting`](crate::starting), start the
/// child (`fork()` or `Command::spawn`), [`track`](Starting::track) it, drop the guard.
#[must_use = "the registry is locked only while this guard lives"]
pub struct Starting<'a>(MutexGuard<'a, State>);

impl Starting<'_> {
    /// Remembers `pid`, a child just `fork`ed, until [`wait`](crate::wait) reaps it.
    pub fn track(&mut self, pid: Pid) {
        self.0.pids.push(pid);
    }

    /// Remembers a child just spawned, until [`wait_child`](crate::wait_child) reaps it; returns its pid.
    pub fn track_child(&mut self, child: &Child) -> Pid {
        let pid = pid_of(child);
        self.track(pid);
        pid
    }
}

impl std::fmt::Debug for Starting<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Starting").finish_non_exhaustive()
    }
}

/// Blocks until child `pid` has exited, leaving it unreaped (`waitid` with `WNOWAIT`): a zombie
/// keeps its pid, so no other process can get that pid while the caller still refers to it.
pub fn wait_for_exit(pid: Pid) -> nix::Result<()> {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
    retry(|| waitid(Id::Pid(pid), flags)).map(drop)
}

/// The pid of a std `Child`, in nix's type.
pub fn pid_of(child: &Child) -> Pid {
    // A Linux pid is a positive `pid_t`; std hands it out widened to u32.
    Pid::from_raw(child.id() as i32)
}

/// Retries a call that a signal interrupted (`EINTR`).
fn retry<T>(mut call: impl FnMut() -> nix::Result<T>) -> nix::Result<T> {
    loop {
        match call() {
            Err(Errno::EINTR) => continue,
            result => return result,
        }
    }
}

impl Error {
    fn wait(pid: Pid, errno: Errno) -> Self {
        Error::Wait {
            pid,
            source: io::Error::from(errno),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracked(registry: &Registry, pid: Pid) -> bool {
        registry.lock().pids.contains(&pid)
    }

    #[test]
    fn a_spawned_child_is_tracked_until_it_is_reaped() {
        let registry = Registry::new();
        let mut child = registry
            .spawn(Command::new("sh").args(["-c", "exit 3"]))
            .unwrap();
        let pid = pid_of(&child);
        assert!(tracked(&registry, pid));
        let status = registry.wait_child(&mut child).unwrap();
        assert_eq!(status.code(), Some(3));
        assert!(!tracked(&registry, pid));
        // Reaped by std, so a second wait returns the status std kept.
        assert_eq!(registry.wait_child(&mut child).unwrap().code(), Some(3));
    }

    #[test]
    fn a_tracked_pid_is_reaped_by_wait() {
        let registry = Registry::new();
        let pid = {
            let mut starting = registry.starting().unwrap();
            // Reaped by pid below, as a `fork`ed child would be.
            #[allow(clippy::zombie_processes)]
            let child = Command::new("sh").args(["-c", "exit 5"]).spawn().unwrap();
            starting.track_child(&child)
        };
        assert_eq!(registry.wait(pid).unwrap(), WaitStatus::Exited(pid, 5));
        assert!(!tracked(&registry, pid));
        assert!(registry.wait(pid).is_err(), "a reaped pid is not ours");
    }

    #[test]
    fn kill_ends_a_tracked_child_only() {
        let registry = Registry::new();
        let mut child = registry.spawn(Command::new("sleep").arg("30")).unwrap();
        registry.kill(pid_of(&child));
        let status = registry.wait_child(&mut child).unwrap();
        assert_eq!(crate::describe_exit(child.id(), status), {
            format!("child {} killed by SIGKILL", child.id())
        });
        let mut stranger = Command::new("sleep").arg("30").spawn().unwrap();
        registry.kill(pid_of(&stranger));
        assert_eq!(stranger.try_wait().unwrap(), None, "untracked: left alone");
        stranger.kill().unwrap();
        stranger.wait().unwrap();
    }

    #[test]
    fn kill_all_ends_and_reaps_everything_and_refuses_new_children() {
        let registry = Registry::new();
        let pids: Vec<Pid> = (0..3)
            .map(|_| pid_of(&registry.spawn(Command::new("sleep").arg("30")).unwrap()))
            .collect();
        assert_eq!(registry.kill_all(), 3);
        for pid in pids {
            // Reaped: the pid no longer names a process (not even a zombie) of ours.
            assert_eq!(waitpid(pid, None), Err(Errno::ECHILD));
        }
        assert!(matches!(
            registry.spawn(&mut Command::new("true")),
            Err(Error::Interrupted)
        ));
    }
}
