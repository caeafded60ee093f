//! The parent's side of a child process, the plumbing every step shares: the program to
//! re-execute, a guard that kills and reaps a child on every way out (tracked by `reaper` from
//! its start, so Ctrl-C and SIGTERM end it too), waiting for several children in the order they
//! exit, the "ready" line a child prints once attached, and the clock both processes read. The
//! child's side is in [`crate::worker`].
//!
//! Why re-execute instead of `fork`: after `fork` in a multithreaded process the child may only
//! call async-signal-safe functions (no allocation, no locks) until it `exec`s, and the
//! `ipc-channel` maintainers advise spawning for the same reason. `Command` on `current_exe()`
//! is Python's "spawn": a fresh process, so the child code is ordinary Rust.

use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;

use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};

// ANCHOR: child
/// The first argument that makes this program a worker child rather than the lesson. A flag
/// checked before the command line is parsed, not a subcommand, so a stray word stays an error.
pub const WORKER_FLAG: &str = "--worker";

/// What a worker prints on stdout once it has attached (to the segment, or the pipe).
pub const READY: &str = "ready";

/// Nanoseconds on `CLOCK_MONOTONIC`, the clock every process on the machine shares, so a time
/// stamped in the child can be subtracted from one read in the parent. (`std::time::Instant`
/// reads the same clock but cannot be sent to another process: it is opaque.)
pub fn monotonic_ns() -> u64 {
    // CLOCK_MONOTONIC always exists on Linux; clock_gettime fails only for an invalid clock id.
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .expect("CLOCK_MONOTONIC is always available on Linux");
    // Both parts are non-negative for CLOCK_MONOTONIC (it counts up from boot).
    now.tv_sec() as u64 * 1_000_000_000 + now.tv_nsec() as u64
}

/// The program a step re-executes as its worker child.
#[derive(Debug, Clone)]
pub struct Worker {
    /// This binary, or (in benchmarks) the binary cargo built beside them.
    program: PathBuf,
}

impl Worker {
    /// Workers that are this very program (`current_exe`).
    pub fn current() -> io::Result<Self> {
        Ok(Self {
            program: std::env::current_exe()?,
        })
    }

    /// The program, for a step's `Command`.
    pub fn path(&self) -> &Path {
        &self.program
    }
}

/// A running child that is killed and reaped when dropped, so an early return or a panic in the
/// parent never leaves a zombie or an orphan behind.
#[derive(Debug)]
pub struct ChildGuard {
    /// The child, tracked by the `reaper` registry until [`ChildGuard::wait`] reaps it.
    child: Child,
    /// Its exit status, once reaped.
    status: Option<ExitStatus>,
}

impl ChildGuard {
    /// Starts `command` with `--parent <our pid>` appended (a worker exits at once if that is
    /// not its parent), its stdout piped to us and its stderr shared with ours (so a child's
    /// error reaches the user).
    pub fn spawn(command: &mut Command) -> io::Result<Self> {
        Self::spawn_with_stdin(command, Stdio::null())
    }

    /// [`spawn`](ChildGuard::spawn) with `stdin` as the child's stdin: how a shared-memory
    /// segment reaches a child ([`crate::shm::Segment::for_child`]).
    pub fn spawn_with_stdin(command: &mut Command, stdin: Stdio) -> io::Result<Self> {
        command
            .args(["--parent", &std::process::id().to_string()])
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        Ok(Self {
            child: reaper::spawn(command)?,
            status: None,
        })
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The read end of the child's stdout pipe (only the first call gets it).
    pub fn take_stdout(&mut self) -> io::Result<ChildStdout> {
        self.child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("the child's stdout was taken already"))
    }

    /// Whether the child has exited, without reaping it (`WNOWAIT`) and without blocking.
    pub fn has_exited(&self) -> bool {
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT | WaitPidFlag::WNOHANG;
        !matches!(
            waitid(Id::Pid(reaper::pid_of(&self.child)), flags),
            Ok(WaitStatus::StillAlive)
        )
    }

    /// Waits for the child to exit and reaps it, untracking it in the same locked step
    /// (`reaper::wait_child`): the obvious `child.wait()` then "untrack the pid" would leave an
    /// instant in which the Ctrl-C handler could signal a recycled pid belonging to a stranger.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = reaper::wait_child(&mut self.child)?;
        self.status = Some(status);
        Ok(status)
    }

    /// Reaps the child and says how it ended, if it did not end well: "child 41 killed by
    /// SIGKILL".
    pub fn failure(&mut self) -> io::Result<Option<String>> {
        let status = self.wait()?;
        Ok((!status.success()).then(|| reaper::describe_exit(self.pid(), status)))
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.status.is_none() {
            // SIGKILL, not SIGTERM: the child holds nothing that needs a graceful end (a
            // segment has no name to remove, and a lock it held is taken over by the next
            // taker), and it cannot ignore SIGKILL. Killing a
            // child that already exited is harmless: it stays a zombie until `wait` reaps it.
            reaper::kill(reaper::pid_of(&self.child));
            let _ = self.wait();
        }
    }
}
// ANCHOR_END: child

// Only the benchmarks need this: they start workers from the binary cargo built beside them.
impl Worker {
    /// Workers run from `program`, which must be a build of the `queue-ipc` binary.
    pub fn program(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
        }
    }
}

// ANCHOR: wait_all
/// Waits for every child in `kids`, in the order they exit, and returns the failures as
/// `child <pid> <cause>`. At the first failure the others are killed: the run is already wrong,
/// and the user should hear it now, not when the slowest survivor finishes.
///
/// One thread per child blocks in `waitid(WNOWAIT)` on that child's pid
/// (`reaper::wait_for_exit`) and reports its index, which gives the exit order without polling.
/// `waitid(P_ALL)` would too, but it also returns children this function does not own.
pub fn wait_all(kids: &mut [ChildGuard]) -> io::Result<Vec<String>> {
    let (tx, rx) = mpsc::channel();
    for (index, kid) in kids.iter().enumerate() {
        let (tx, pid) = (tx.clone(), reaper::pid_of(&kid.child));
        std::thread::spawn(move || {
            // An error (the child was reaped meanwhile) is an exit too; if the receiver is gone,
            // nobody needs the news.
            let _ = reaper::wait_for_exit(pid);
            let _ = tx.send(index);
        });
    }
    drop(tx);
    let mut failures = Vec::new();
    for index in rx {
        if let Some(failure) = kids[index].failure()? {
            failures.push(failure);
            for other in kids.iter().filter(|k| k.status.is_none()) {
                reaper::kill(reaper::pid_of(&other.child));
            }
        }
    }
    Ok(failures)
}
// ANCHOR_END: wait_all

// ANCHOR: ready
/// Waits for one line (the child's [`READY`]) on its stdout; false at end of file, when the
/// child died before it attached.
pub fn read_ready(stdout: &mut impl BufRead) -> io::Result<bool> {
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    Ok(line.trim_end() == READY)
}

/// [`read_ready`] without a buffer, for a reader that keeps its own: reads exactly the line,
/// so not a byte that follows it is taken from the pipe.
pub fn read_ready_unbuffered(stdout: &mut impl Read) -> io::Result<bool> {
    let mut line = [0u8; READY.len() + 1];
    match stdout.read_exact(&mut line) {
        Ok(()) => Ok(line[..READY.len()] == *READY.as_bytes() && line[READY.len()] == b'\n'),
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(err) => Err(err),
    }
}
// ANCHOR_END: ready

#[cfg(test)]
mod tests {
    use nix::errno::Errno;
    use nix::sys::signal::kill;

    use super::*;

    fn guard(command: &mut Command) -> ChildGuard {
        ChildGuard {
            child: reaper::spawn(command).unwrap(),
            status: None,
        }
    }

    #[test]
    fn the_first_failure_stops_the_other_children() {
        let mut kids = [
            guard(Command::new("sleep").arg("30")),
            guard(Command::new("sh").args(["-c", "exit 3"])),
        ];
        let failures = wait_all(&mut kids).unwrap();
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert!(
            failures[0].ends_with("exited with status 3"),
            "{failures:?}"
        );
        assert!(failures[1].ends_with("killed by SIGKILL"), "{failures:?}");
        assert!(kids.iter().all(|kid| kid.status.is_some()));
    }

    #[test]
    fn a_dropped_guard_kills_and_reaps_its_child() {
        let kid = guard(Command::new("sleep").arg("30"));
        let pid = reaper::pid_of(&kid.child);
        drop(kid);
        // Reaped: the pid no longer names a process (not even a zombie) of ours.
        assert_eq!(kill(pid, None), Err(Errno::ESRCH));
    }

    #[test]
    fn the_monotonic_clock_does_not_go_back() {
        let a = monotonic_ns();
        let b = monotonic_ns();
        assert!(b >= a && a > 0);
    }

    #[test]
    fn ready_is_one_line_and_end_of_file_is_not_ready() {
        assert!(read_ready(&mut &b"ready\nrest"[..]).unwrap());
        assert!(!read_ready(&mut &b""[..]).unwrap());
        let mut input = &b"ready\nrest"[..];
        assert!(read_ready_unbuffered(&mut input).unwrap());
        assert_eq!(input, b"rest");
        assert!(!read_ready_unbuffered(&mut &b"rea"[..]).unwrap());
    }
}
