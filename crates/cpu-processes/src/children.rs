//! Leaving no child behind: waiting on children's pipes, reporting how a child ended, and
//! ending and reaping every child when the user presses Ctrl-C or sends SIGTERM.
//!
//! The parent waits with `poll` on two kinds of pipe at once: the children's result pipes
//! (readable when a result arrives; end-of-file once every child has closed its end, that is,
//! exited) and a *stop pipe* that the Ctrl-C handler writes one byte into. The obvious
//! alternative, having the handler `kill` the children itself, has a race: the main thread may
//! have just reaped a child, and its pid may already belong to an unrelated process. Here only
//! the main thread kills and only the main thread reaps, so every pid it kills is a child it has
//! not yet waited for: a live child or a zombie, never a recycled pid.
//!
//! The handler (from the `ctrlc` crate, which runs it on its own thread) can only defer to the
//! main thread while children exist. When none exist, the sequential and threads variants
//! cannot be interrupted politely (their loops check nothing), so the handler exits at once;
//! a mutex makes "no children exist" and "exit now" one step, so the main thread cannot start
//! a child between the check and the exit.
//!
//! SIGKILL reaches no handler: a parent killed with it cannot end its children. For that case
//! each child asks the kernel, first thing, to SIGKILL it when its parent dies
//! (`prctl(PR_SET_PDEATHSIG)`, Linux only), then checks that the parent has not already gone.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;
use nix::unistd::{pipe2, read, write};

/// What can go wrong running the variants, other than a child failing (which is a wrong row,
/// not an error: the run goes on and reports it).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Ctrl-C or SIGTERM arrived; every child was ended and reaped before this was returned.
    #[error("interrupted: every child was ended and reaped")]
    Interrupted,
    /// The OS refused a thread (out of memory or thread limit).
    #[error("starting a worker thread: {0}")]
    ThreadStart(std::io::Error),
    /// A worker thread panicked; its result is lost, so the run has failed.
    #[error("a worker thread panicked")]
    ThreadPanicked,
    /// A system call failed (`fork`, `pipe`, `poll`, `waitpid`...).
    #[error("{call}: {errno}")]
    Sys {
        /// The call that failed.
        call: &'static str,
        /// Its error number.
        errno: Errno,
    },
    /// Waiting for a re-executed worker failed.
    #[error("waiting for a worker: {0}")]
    Wait(std::io::Error),
    /// Re-executing this program failed.
    #[error("starting {exe} as a worker: {source}")]
    Spawn {
        /// The executable that could not be started.
        exe: String,
        /// Why.
        source: std::io::Error,
    },
}

impl Error {
    /// A closure turning an `Errno` from `call` into an [`Error::Sys`], for `map_err`.
    pub fn sys(call: &'static str) -> impl FnOnce(Errno) -> Error {
        move |errno| Error::Sys { call, errno }
    }
}

/// The signal that ends children on Ctrl-C, and after a failed start. SIGKILL rather than
/// SIGTERM: the workers hold nothing that needs cleaning up, and SIGKILL cannot be caught or
/// ignored, so the `waitpid` that follows cannot hang on a child that chose to live on.
pub const END_SIGNAL: Signal = Signal::SIGKILL;

/// The handler's view of the run, behind one mutex so that checking and acting are one step.
#[derive(Debug, Default)]
struct State {
    /// True while children may exist: the main thread then kills and reaps them itself.
    supervising: bool,
    /// True once Ctrl-C or SIGTERM arrived.
    interrupted: bool,
}

static STATE: Mutex<State> = Mutex::new(State {
    supervising: false,
    interrupted: false,
});

/// The stop pipe: the handler writes a byte into `.1`, `poll` wakes on `.0`.
static STOP: OnceLock<(OwnedFd, OwnedFd)> = OnceLock::new();

fn state() -> MutexGuard<'static, State> {
    // Nothing panics while holding the lock; were it poisoned, the two flags are still valid.
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Installs the Ctrl-C / SIGTERM / SIGHUP handler. Call once, in the parent only: a re-executed
/// worker keeps the default dispositions, so a signal ends it at once.
pub fn install_stop_handler() -> anyhow::Result<()> {
    // O_CLOEXEC: re-executed workers must not inherit the stop pipe.
    let pipe = pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("pipe2"))?;
    let (_, stop_write) = STOP.get_or_init(|| pipe);
    ctrlc::set_handler(move || {
        let mut state = state();
        state.interrupted = true;
        if state.supervising {
            // Wakes the main thread's `poll`; it kills and reaps. A full pipe already says so.
            let _ = write(stop_write, b"!");
        } else {
            // No child exists, and none can start while we hold the lock: just leave.
            eprintln!("interrupted");
            std::process::exit(130);
        }
    })?;
    Ok(())
}

/// Whether Ctrl-C or SIGTERM arrived.
pub fn interrupted() -> bool {
    state().interrupted
}

/// Marks the span in which children may exist. Create it before the first `fork` or `spawn`;
/// drop it only after every child is reaped (declare it before the children's owner, so that
/// the owner's `Drop`, which reaps, runs first).
#[derive(Debug)]
pub struct Supervising(());

impl Supervising {
    /// Children may exist from now on.
    pub fn begin() -> Self {
        state().supervising = true;
        Supervising(())
    }
}

impl Drop for Supervising {
    fn drop(&mut self) {
        state().supervising = false;
    }
}

/// Reads each of `pipes` to end-of-file, returning what each carried, or [`Error::Interrupted`]
/// as soon as the stop pipe wakes us (the caller's `Drop` then kills and reaps).
pub fn read_to_eof(pipes: &[BorrowedFd<'_>]) -> Result<Vec<Vec<u8>>, Error> {
    let mut data = vec![Vec::new(); pipes.len()];
    let mut open: Vec<usize> = (0..pipes.len()).collect();
    let mut buf = [0_u8; 4096];
    while !open.is_empty() {
        if interrupted() {
            return Err(Error::Interrupted);
        }
        let mut fds: Vec<PollFd<'_>> = open
            .iter()
            .map(|&i| PollFd::new(pipes[i], PollFlags::POLLIN))
            .collect();
        if let Some((stop_read, _)) = STOP.get() {
            fds.push(PollFd::new(stop_read.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, PollTimeout::NONE) {
            // A signal handler ran: loop, and the `interrupted()` check decides.
            Err(Errno::EINTR) => continue,
            result => result.map_err(Error::sys("poll"))?,
        };
        let ready: Vec<bool> = fds.iter().map(|fd| fd.any().unwrap_or(false)).collect();
        let mut still_open = Vec::with_capacity(open.len());
        for (slot, &i) in open.iter().enumerate() {
            if !ready[slot] {
                still_open.push(i);
                continue;
            }
            // Readable, hung up or in error: `read` will not block, and 0 means end-of-file.
            match read(pipes[i], &mut buf) {
                Ok(0) => {}
                Ok(n) => {
                    data[i].extend_from_slice(&buf[..n]);
                    still_open.push(i);
                }
                Err(Errno::EINTR) => still_open.push(i),
                Err(errno) => {
                    return Err(Error::Sys {
                        call: "read",
                        errno,
                    });
                }
            }
        }
        open = still_open;
    }
    Ok(data)
}

/// How a child ended, in words, when it did not end well: `None` for exit status 0.
pub fn failure(status: WaitStatus) -> Option<String> {
    match status {
        WaitStatus::Exited(_, 0) => None,
        WaitStatus::Exited(pid, code) => Some(format!("child {pid} exited with status {code}")),
        WaitStatus::Signaled(pid, signal, _) => Some(format!("child {pid} killed by {signal}")),
        other => Some(format!("child ended strangely: {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use nix::unistd::Pid;

    use super::*;

    #[test]
    fn failures_name_pid_and_cause() {
        let pid = Pid::from_raw(4242);
        assert_eq!(failure(WaitStatus::Exited(pid, 0)), None);
        assert_eq!(
            failure(WaitStatus::Exited(pid, 3)).as_deref(),
            Some("child 4242 exited with status 3")
        );
        assert_eq!(
            failure(WaitStatus::Signaled(pid, Signal::SIGKILL, false)).as_deref(),
            Some("child 4242 killed by SIGKILL")
        );
    }

    #[test]
    fn pipes_are_read_to_the_end() {
        let (r1, w1) = pipe2(OFlag::O_CLOEXEC).unwrap();
        let (r2, w2) = pipe2(OFlag::O_CLOEXEC).unwrap();
        write(&w1, b"hello ").unwrap();
        write(&w1, b"world").unwrap();
        drop((w1, w2));
        let data = read_to_eof(&[r1.as_fd(), r2.as_fd()]).unwrap();
        assert_eq!(data, vec![b"hello world".to_vec(), Vec::new()]);
    }
}
