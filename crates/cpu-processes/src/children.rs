//! The lesson's errors, reading the children's pipes to the end, and a failed child in words.
//!
//! Keeping no child behind is the `reaper` crate's job: every child is tracked from its
//! `fork` or `spawn` until the locked step that reaps it, and its Ctrl-C / SIGTERM handler
//! kills and reaps every tracked child and exits with status 130 (its docs say why each rule
//! exists). So the main thread never has to notice an interrupt: the `poll` below waits on the
//! children's result pipes alone.
//!
//! SIGKILL reaches no handler: a parent killed with it cannot end its children. For that case
//! each child asks the kernel, first thing, to SIGKILL it when its parent dies
//! (`prctl(PR_SET_PDEATHSIG)`, Linux only), then checks that the parent has not already gone.

use std::os::fd::BorrowedFd;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::wait::WaitStatus;
use nix::unistd::read;

/// What can go wrong running the variants, other than a child failing (which is a wrong row,
/// not an error: the run goes on and reports it).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Ctrl-C or SIGTERM arrived, so no new child may start (`reaper` refused it); the
    /// handler is ending every child and the program.
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
    /// Waiting for or reaping a child failed.
    #[error("waiting for a worker: {0}")]
    Wait(reaper::Error),
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

    /// A `reaper` error as ours, for `map_err`: a refused start is [`Error::Interrupted`].
    pub fn from_reaper(err: reaper::Error) -> Error {
        match err {
            reaper::Error::Interrupted => Error::Interrupted,
            other => Error::Wait(other),
        }
    }
}

/// Reads each of `pipes` to end-of-file, returning what each carried. `poll` waits on all of
/// them at once, so a child blocked on a full pipe never waits while we read another.
pub fn read_to_eof(pipes: &[BorrowedFd<'_>]) -> Result<Vec<Vec<u8>>, Error> {
    let mut data = vec![Vec::new(); pipes.len()];
    let mut open: Vec<usize> = (0..pipes.len()).collect();
    let mut buf = [0_u8; 4096];
    while !open.is_empty() {
        let mut fds: Vec<PollFd<'_>> = open
            .iter()
            .map(|&i| PollFd::new(pipes[i], PollFlags::POLLIN))
            .collect();
        match poll(&mut fds, PollTimeout::NONE) {
            // A signal interrupted the wait (the Ctrl-C handler runs on its own thread): retry.
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

/// How a child ended, in words (`reaper::describe`), when it did not end well: `None` for exit
/// status 0.
pub fn failure(status: WaitStatus) -> Option<String> {
    (!matches!(status, WaitStatus::Exited(_, 0))).then(|| reaper::describe(status))
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd as _;

    use nix::fcntl::OFlag;
    use nix::sys::signal::Signal;
    use nix::unistd::{Pid, pipe2, write};

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
