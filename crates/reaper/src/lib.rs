//! Leave no child process behind, and say how each one ended; plus a panic payload in words.
//!
//! Every lesson that starts processes needs the same plumbing, and it is easy to get subtly
//! wrong, so it lives here once. A child is *tracked* from the moment it exists
//! ([`spawn`], or [`starting`] + `fork()` + [`Starting::track`]) until the one step that reaps
//! it ([`wait`], [`wait_child`]). [`install`] sets a Ctrl-C / SIGTERM / SIGHUP handler that
//! SIGKILLs and reaps every tracked child, runs the cleanup hooks a lesson registered with
//! [`on_interrupt`] (removing its shared-memory names, say), prints one line and exits with
//! status 130; the [`Reaper`] it returns does the same killing and reaping (without exiting)
//! when `main` returns early with an error. [`describe`] turns a wait status into
//! "child 4242 exited with status 3" or "child 4242 killed by SIGKILL".
//!
//! # The rules, and why
//! - **Tracked from birth, under the lock.** The pid is added in the same locked step as the
//!   `fork` or `spawn`. Otherwise a Ctrl-C landing between the two would kill the children it
//!   knows of and exit, and the newborn would run on as an orphan.
//! - **Untracked only in the step that reaps.** A pid names our child until we reap it; after
//!   that the kernel may hand it to any new process. So a pid leaves the registry only under
//!   the lock, in the same step as the `waitpid`, and the handler, which holds the lock, never
//!   signals a recycled pid. Blocking in `waitpid` under the lock would stall the handler
//!   behind a slow child, so [`wait`] first waits *without reaping* (`waitid` with `WNOWAIT`:
//!   the exited child stays a zombie and keeps its pid), unlocked, then locks, untracks and
//!   reaps, which no longer blocks. For the same reason a tracked child is killed with [`kill`]
//!   (under the lock), never `Child::kill`.
//! - **Closed once interrupted.** The handler and [`kill_all`] close the registry: a child
//!   asked for afterwards gets [`Error::Interrupted`] instead of outliving the cleanup.
//! - **The handler holds the lock until the process exits.** A worker thread that sees its
//!   child die then blocks on the lock instead of reaping it, starting a replacement, or
//!   reporting the death as a failure that would race the exit status 130.
//! - **SIGKILL, not SIGTERM.** No worker holds anything that needs a graceful end, and SIGKILL
//!   cannot be caught or ignored, so the `waitpid` after it cannot hang on a child that chose
//!   to live on.
//! - **After `fork`, only async-signal-safe calls.** `fork` in a process with other threads (the
//!   handler's, at least) copies only the calling thread; a lock another thread held stays
//!   locked forever in the child. The registry lock is held across the `fork` on purpose, so
//!   the child must never touch this crate: it may only `write`, `signal`, `prctl` and `_exit`
//!   until it `exec`s. It should also restore the default dispositions of SIGINT/SIGTERM/SIGHUP
//!   (the handler's thread did not come along, so they would be swallowed), and ask for
//!   `prctl(PR_SET_PDEATHSIG, SIGKILL)`: a parent killed with SIGKILL runs no handler.
//! - **The death signal follows a thread, not the process.** Linux sends `PR_SET_PDEATHSIG`'s
//!   signal when the *thread* that forked or spawned the child ends, even while the rest of the
//!   process runs on (prctl(2)). A child started from a short-lived thread (a `thread::scope`
//!   worker, a pool thread that is retired) is killed when that thread returns, so start it
//!   from a thread that waits for it (or outlives it), and read an unexplained SIGKILL of a
//!   child with this in mind.
//!
//! `ctrlc` runs the handler on a thread of its own (the real signal handler only writes to a
//! pipe), which is why the handler may lock, allocate and `waitpid`. Untracked children are
//! not this crate's business: waiting on them with `waitid(P_ALL)` would steal their statuses.
//!
//! # Use
//! ```no_run
//! # fn main() -> Result<(), reaper::Error> {
//! let _reaper = reaper::install()?; // first thing in main: dropped last
//! let mut child = reaper::spawn(std::process::Command::new("sleep").arg("1"))?;
//! let status = reaper::wait_child(&mut child)?;
//! if !status.success() {
//!     eprintln!("error: {}", reaper::describe_exit(child.id(), status));
//! }
//! # Ok(())
//! # }
//! ```

mod describe;
mod panic;
mod registry;

use std::io::Write as _;
use std::process::{Child, Command, ExitStatus};

use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;

pub use describe::{describe, describe_exit};
pub use panic::{NO_MESSAGE, panic_message};
pub use registry::{Starting, pid_of, wait_for_exit};

use registry::{REGISTRY, end_every_child};

/// Locks the registry to start one child: `Err(Interrupted)` once Ctrl-C arrived or
/// [`kill_all`] ran. Keep the guard only across the `fork()` or `spawn()` and its `track`: the
/// Ctrl-C handler waits for it.
pub fn starting() -> Result<Starting<'static>, Error> {
    REGISTRY.starting()
}

/// Spawns `command` and tracks the child, in one locked step (see [`starting`]).
pub fn spawn(command: &mut Command) -> Result<Child, Error> {
    REGISTRY.spawn(command)
}

/// Waits for child `pid` to exit and reaps it: waits without reaping (`WNOWAIT`) and unlocked,
/// then, locked, takes the pid off the registry and reaps it. Use it for `fork`ed children.
pub fn wait(pid: Pid) -> Result<WaitStatus, Error> {
    REGISTRY.wait(pid)
}

/// [`wait`] for a spawned child, reaped through `Child::wait` so that std knows it is gone
/// (and a later `Child::kill` or `Child::wait` touches no recycled pid).
pub fn wait_child(child: &mut Child) -> Result<ExitStatus, Error> {
    REGISTRY.wait_child(child)
}

/// SIGKILLs child `pid` if it is tracked (so not yet reaped, so still ours); does nothing
/// otherwise. A tracked child is killed this way, never with `Child::kill`, which does not take
/// the lock. Follow it with [`wait`] or [`wait_child`].
pub fn kill(pid: Pid) {
    REGISTRY.kill(pid);
}

/// Kills (SIGKILL) and reaps every tracked child and refuses new ones: for a parent that is
/// giving up on an error. Returns how many children it ended. [`Reaper`] calls
/// it on drop.
pub fn kill_all() -> usize {
    REGISTRY.kill_all()
}

/// What the handler prints, on stderr, before it exits with status 130.
pub const INTERRUPTED: &str = "interrupted: every child was ended and reaped";

/// What can go wrong tracking children.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Ctrl-C arrived or [`kill_all`] ran: no child may start any more. This is final, so as
    /// an `io::Error` it is `ErrorKind::Other`, not `ErrorKind::Interrupted` (see the `From`).
    #[error("interrupted: no new child may start")]
    Interrupted,
    /// Starting the child failed (`Command::spawn`).
    #[error("starting a child process: {0}")]
    Spawn(std::io::Error),
    /// Waiting for or reaping a child failed.
    #[error("waiting for child {pid}: {source}")]
    Wait {
        /// The child.
        pid: Pid,
        /// Why.
        source: std::io::Error,
    },
    /// The Ctrl-C handler could not be installed (a second [`install`] in one process).
    #[error("installing the Ctrl-C handler: {0}")]
    Handler(ctrlc::Error),
}

impl From<Error> for std::io::Error {
    /// For callers whose errors are `io::Error`s. A refusal becomes `ErrorKind::Other`, not
    /// `ErrorKind::Interrupted`: to std and to most retry loops, `Interrupted` means "a signal
    /// cut this call short, make it again" (`read_exact`, `write_all` and `io::copy` retry it
    /// without a word), and a refusal is permanent: once the registry is closed, every retry is
    /// refused too, so a caller that retried would spin for ever instead of giving up. std has
    /// no stable kind for "cancelled" that would fit better.
    fn from(err: Error) -> Self {
        match err {
            Error::Interrupted | Error::Handler(_) => std::io::Error::other(err),
            Error::Spawn(err) | Error::Wait { source: err, .. } => err,
        }
    }
}

/// Installs the Ctrl-C / SIGTERM / SIGHUP handler: with the registry locked until the process
/// exits, it closes the registry, SIGKILLs and reaps every tracked child, runs the
/// [`on_interrupt`] hooks, prints [`INTERRUPTED`] and exits with status 130. Call it once, in the
/// parent, before the first child starts; a re-executed worker keeps the default dispositions,
/// so a signal ends it at once. Keep the returned [`Reaper`] alive for the whole of `main`.
pub fn install() -> Result<Reaper, Error> {
    ctrlc::set_handler(|| {
        let mut state = REGISTRY.lock();
        end_every_child(&mut state);
        for hook in &state.hooks {
            hook();
        }
        // `eprintln!` would panic if stderr were gone, and a panic here would leave the process
        // running with its lock poisoned: the exit matters more than the line.
        let _ = writeln!(std::io::stderr(), "{INTERRUPTED}");
        std::process::exit(130);
    })
    .map_err(Error::Handler)?;
    Ok(Reaper(()))
}

/// Registers `hook` for the Ctrl-C handler to run, after every child is reaped and before it
/// exits: for what a child cannot leave behind but the parent can (a `/dev/shm` name). It runs
/// with the registry locked, so it must not wait for anything that waits for the registry.
pub fn on_interrupt(hook: fn()) {
    REGISTRY.lock().hooks.push(hook);
}

/// Returned by [`install`]: when dropped (at the end of `main`, on success or on an error), it
/// kills and reaps every child still tracked ([`kill_all`]).
#[derive(Debug)]
#[must_use = "a Reaper dropped at once closes the registry: no child could start"]
pub struct Reaper(());

impl Drop for Reaper {
    fn drop(&mut self) {
        kill_all();
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, ErrorKind};
    use std::process::Command;

    use crate::registry::Registry;

    #[test]
    fn a_refused_start_is_no_io_error_to_retry() {
        let registry = Registry::new();
        registry.kill_all();
        let refused = registry.spawn(&mut Command::new("true")).unwrap_err();
        let err = io::Error::from(refused);
        // `Interrupted` would tell std and retry loops to try again, and every retry would be
        // refused in turn.
        assert_ne!(err.kind(), ErrorKind::Interrupted, "{err}");
        assert_eq!(err.kind(), ErrorKind::Other, "{err}");
        assert_eq!(err.to_string(), "interrupted: no new child may start");
    }
}
