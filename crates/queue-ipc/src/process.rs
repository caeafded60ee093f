//! Child processes: this program re-executed as a hidden worker, and every child reaped, also
//! when the parent returns early. Every child is tracked by the `reaper` crate from its start
//! until it is reaped, so Ctrl-C and SIGTERM end it too.
//!
//! Why re-execute instead of `fork`: after `fork` in a multithreaded process the child may only
//! call async-signal-safe functions (no allocation, no locks) until it `exec`s, and the
//! `ipc-channel` maintainers advise spawning for the same reason. `std::process::Command` with
//! `current_exe()` is Python's "spawn" start method: a fresh process that parses its own
//! arguments, so the child code is ordinary Rust.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;

use anyhow::Context as _;
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};

/// How to start a worker: a build of this program, run with the hidden `worker` subcommand.
#[derive(Debug, Clone)]
pub struct Worker {
    /// The program to execute: this binary, or (in benchmarks) the binary cargo built beside them.
    program: PathBuf,
}

impl Worker {
    /// Workers that are this very program (`std::env::current_exe`), Python's "spawn".
    pub fn current() -> anyhow::Result<Self> {
        let program = std::env::current_exe().context("finding this program to re-execute")?;
        Ok(Self { program })
    }

    /// Workers run from `program`, which must be a build of the `queue-ipc` binary.
    pub fn program(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
        }
    }

    /// Starts `queue-ipc worker <args> --parent <our pid>` with its stdout piped to us and its
    /// stderr shared with ours (so a child's error reaches the user).
    pub(crate) fn spawn(&self, args: &[OsString]) -> anyhow::Result<ChildGuard> {
        let mut command = Command::new(&self.program);
        command
            .arg("worker")
            .args(args)
            .arg("--parent")
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let child = reaper::spawn(&mut command)
            .with_context(|| format!("starting worker {}", self.program.display()))?;
        Ok(ChildGuard {
            child,
            status: None,
        })
    }
}

/// A running child that is killed and reaped when dropped, so an early return or a panic in the
/// parent never leaves a zombie or an orphan behind.
#[derive(Debug)]
pub(crate) struct ChildGuard {
    /// The child, tracked by the `reaper` registry until [`ChildGuard::wait`] reaps it.
    child: Child,
    /// Its exit status, once reaped.
    status: Option<ExitStatus>,
}

impl ChildGuard {
    /// The child's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The read end of the child's stdout pipe (only the first call gets it).
    pub(crate) fn take_stdout(&mut self) -> anyhow::Result<ChildStdout> {
        self.child
            .stdout
            .take()
            .context("the child's stdout was taken already")
    }

    /// Whether the child has exited, without reaping it (`WNOWAIT`) and without blocking.
    pub(crate) fn has_exited(&self) -> bool {
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT | WaitPidFlag::WNOHANG;
        !matches!(
            waitid(Id::Pid(reaper::pid_of(&self.child)), flags),
            Ok(WaitStatus::StillAlive)
        )
    }

    /// Waits for the child to exit and reaps it, untracking it in the same locked step
    /// (`reaper::wait_child`): the obvious `child.wait()` then "untrack the pid" would leave an
    /// instant in which the Ctrl-C handler could signal a recycled pid belonging to a stranger.
    pub(crate) fn wait(&mut self) -> anyhow::Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = reaper::wait_child(&mut self.child).context("waiting for the child")?;
        self.status = Some(status);
        Ok(status)
    }
}

/// Waits for every child in `kids`, in the order they exit, and returns the failures as
/// "child <pid> <cause>". At the first failure the others are killed: the run is already wrong,
/// and the user should hear it now, not when the slowest survivor finishes.
///
/// One thread per child blocks in `waitid(WNOWAIT)` on that child's pid
/// (`reaper::wait_for_exit`) and reports its index,
/// which gives the exit order without polling. `waitid(P_ALL)` would too, but it also returns
/// children this function does not own (a library caller's, say).
pub(crate) fn wait_all(kids: &mut [ChildGuard]) -> anyhow::Result<Vec<String>> {
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
        let status = kids[index].wait()?;
        if !status.success() {
            failures.push(reaper::describe_exit(kids[index].pid(), status));
            for other in kids.iter().filter(|k| k.status.is_none()) {
                reaper::kill(reaper::pid_of(&other.child));
            }
        }
    }
    Ok(failures)
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.status.is_none() {
            // SIGKILL, not SIGTERM: the child holds nothing that needs a graceful end (the
            // segment name is unlinked by the parent), and it cannot ignore SIGKILL. Killing a
            // child that already exited is harmless: it stays a zombie until `wait` reaps it.
            reaper::kill(reaper::pid_of(&self.child));
            let _ = self.wait();
        }
    }
}

/// The note of a stream that fell short: "child 41 killed by SIGKILL: received 500 of 2 000
/// messages".
pub(crate) fn shortfall(pid: u32, status: ExitStatus, received: u64, expected: u64) -> String {
    format!(
        "{}: received {} of {} messages",
        reaper::describe_exit(pid, status),
        timing::fmt_count(received),
        timing::fmt_count(expected)
    )
}

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
    fn a_shortfall_names_the_child_and_the_count() {
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(
            shortfall(41, ExitStatus::from_raw(9), 500, 2000),
            "child 41 killed by SIGKILL: received 500 of 2 000 messages"
        );
    }
}
