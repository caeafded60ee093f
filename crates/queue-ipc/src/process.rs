//! Child processes: this program re-executed as a hidden worker, and every child reaped, also
//! when the parent returns early (see [`crate::interrupt`] for Ctrl-C).
//!
//! Why re-execute instead of `fork`: after `fork` in a multithreaded process the child may only
//! call async-signal-safe functions (no allocation, no locks) until it `exec`s, and the
//! `ipc-channel` maintainers advise spawning for the same reason. `std::process::Command` with
//! `current_exe()` is Python's "spawn" start method: a fresh process that parses its own
//! arguments, so the child code is ordinary Rust.

use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt as _;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;

use anyhow::Context as _;
use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;

use crate::interrupt;

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
        let (child, pid) = interrupt::spawn_unless_interrupted(&mut command)
            .with_context(|| format!("starting worker {}", self.program.display()))?;
        Ok(ChildGuard {
            child,
            pid,
            status: None,
        })
    }
}

/// A running child that is killed and reaped when dropped, so an early return or a panic in the
/// parent never leaves a zombie or an orphan behind.
#[derive(Debug)]
pub(crate) struct ChildGuard {
    /// The child.
    child: Child,
    /// Its pid, as the signal and wait calls want it.
    pid: i32,
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
            waitid(Id::Pid(Pid::from_raw(self.pid)), flags),
            Ok(WaitStatus::StillAlive)
        )
    }

    /// Waits for the child to exit and reaps it. It first waits with `WNOWAIT`, which leaves the
    /// child a zombie, takes its pid off the kill list, and only then reaps it: the obvious
    /// `child.wait()` then "forget the pid" would leave an instant in which the handler could
    /// signal a recycled pid belonging to a stranger.
    pub(crate) fn wait(&mut self) -> anyhow::Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        wait_exited(self.pid).context("waiting for the child")?;
        interrupt::forget(self.pid);
        let status = self.child.wait().context("reaping the child")?;
        self.status = Some(status);
        Ok(status)
    }
}

/// Waits for every child in `kids`, in the order they exit, and returns the failures as
/// "child <pid> <cause>". At the first failure the others are killed: the run is already wrong,
/// and the user should hear it now, not when the slowest survivor finishes.
///
/// One thread per child blocks in `waitid(WNOWAIT)` on that child's pid and reports its index,
/// which gives the exit order without polling. `waitid(P_ALL)` would too, but it also returns
/// children this function does not own (a library caller's, say).
pub(crate) fn wait_all(kids: &mut [ChildGuard]) -> anyhow::Result<Vec<String>> {
    let (tx, rx) = mpsc::channel();
    for (index, kid) in kids.iter().enumerate() {
        let (tx, pid) = (tx.clone(), kid.pid);
        std::thread::spawn(move || {
            // An error (the child was reaped meanwhile) is an exit too; if the receiver is gone,
            // nobody needs the news.
            let _ = wait_exited(pid);
            let _ = tx.send(index);
        });
    }
    drop(tx);
    let mut failures = Vec::new();
    for index in rx {
        let status = kids[index].wait()?;
        if !status.success() {
            failures.push(format!("child {} {}", kids[index].pid(), describe(status)));
            for other in kids.iter_mut().filter(|k| k.status.is_none()) {
                let _ = other.child.kill();
            }
        }
    }
    Ok(failures)
}

/// Blocks until child `pid` has exited, leaving it unreaped (`WNOWAIT`): a zombie keeps its pid,
/// so nobody else can get that pid while the caller still refers to it.
fn wait_exited(pid: i32) -> nix::Result<()> {
    loop {
        match waitid(
            Id::Pid(Pid::from_raw(pid)),
            WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT,
        ) {
            Err(Errno::EINTR) => continue,
            other => return other.map(drop),
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.status.is_none() {
            // SIGKILL, not SIGTERM: the child holds nothing that needs a graceful end (the
            // segment name is unlinked by the parent), and it cannot ignore SIGKILL. Killing a
            // child that already exited is harmless: it stays a zombie until `wait` reaps it.
            let _ = self.child.kill();
            let _ = self.wait();
        }
    }
}

/// A child's exit status in words: "exited with status 1", "killed by SIGKILL".
pub fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => match Signal::try_from(signal) {
            Ok(signal) => format!("killed by {signal}"),
            Err(_) => format!("killed by signal {signal}"),
        },
        (None, None) => format!("ended ({status})"),
    }
}

/// The note of a stream that fell short: "child 41 killed by SIGKILL: received 500 of 2 000
/// messages".
pub(crate) fn shortfall(pid: u32, status: ExitStatus, received: u64, expected: u64) -> String {
    format!(
        "child {pid} {}: received {} of {} messages",
        describe(status),
        timing::fmt_count(received),
        timing::fmt_count(expected)
    )
}

#[cfg(test)]
mod tests {
    use nix::sys::signal::kill;

    use super::*;

    #[test]
    fn statuses_read_as_words() {
        assert_eq!(describe(ExitStatus::from_raw(0)), "exited with status 0");
        assert_eq!(
            describe(ExitStatus::from_raw(3 << 8)),
            "exited with status 3"
        );
        assert_eq!(describe(ExitStatus::from_raw(9)), "killed by SIGKILL");
    }

    fn guard(command: &mut Command) -> ChildGuard {
        let (child, pid) = interrupt::spawn_unless_interrupted(command).unwrap();
        ChildGuard {
            child,
            pid,
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
        let (child, pid) =
            interrupt::spawn_unless_interrupted(Command::new("sleep").arg("30")).unwrap();
        drop(ChildGuard {
            child,
            pid,
            status: None,
        });
        // Reaped: the pid no longer names a process (not even a zombie) of ours.
        assert_eq!(kill(Pid::from_raw(pid), None), Err(Errno::ESRCH));
    }
}
