//! `fork`: one forked child process per task, results back through one pipe, every child
//! reaped with `waitpid`. Python's "fork" start method (the Linux default before 3.14).
//!
//! What changed from [`threads`](crate::threads): each worker is a separate process with its
//! own copy of the address space (copy-on-write: pages are shared until someone writes), so a
//! crash in one cannot corrupt the others, and the result has to be *sent* back. Here every
//! child writes one 16-byte record (task index, sum) into a shared pipe: a `write` of at most
//! `PIPE_BUF` (4096) bytes to a pipe is atomic, so records from different children never
//! interleave and one pipe serves them all.
//!
//! The child of `fork` in a process that has other threads (the Ctrl-C handler's, at least) is
//! a copy of only the forking thread; a lock another thread held at that moment stays locked
//! forever in the child. So from `fork` to `_exit` the child calls only async-signal-safe
//! functions: no allocation, no `println!`, no locks. Arithmetic, `write`, `signal`, `prctl` and
//! `_exit` are all it needs. It leaves with `libc::_exit`, not `std::process::exit`: `exit`
//! runs the parent's copied atexit handlers and flushes its copied stdout buffer, which would
//! print the parent's pending output twice.

// `fork` is unsafe (the rules above are for the caller to keep), and this module is about it.
#![allow(unsafe_code)]

use std::os::fd::{AsFd, OwnedFd};

use nix::fcntl::OFlag;
use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{SigHandler, Signal, raise, signal};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, getpid, getppid, pipe2, write};
use timing::{Row, Stopwatch};

use crate::children::{Error, failure, read_to_eof};
use crate::{Crash, LESSON, cpu_intensive_task, expected_total, memory};

/// Bytes in one child's result record: the task index and its sum, native-endian `u64`s (the
/// reader is the same program on the same machine).
const RECORD: usize = 16;

/// `fork`: runs `workers` tasks of size `n` in forked children. With `crash`, task 0's child
/// fails on purpose (for the tests); its failure is reported in the row, by pid and cause.
pub fn fork(n: u64, workers: usize, crash: Option<Crash>) -> Result<Row, Error> {
    let watch = Stopwatch::start();
    // O_CLOEXEC: `fork` keeps the pipe either way, but another thread's `exec` must not.
    let (results_read, results_write) = pipe2(OFlag::O_CLOEXEC).map_err(Error::sys("pipe2"))?;
    let mut children = Forked::default();
    let parent = getpid();
    for index in 0..workers {
        // The registry stays locked from before the fork until the pid is in it, so a Ctrl-C
        // in between cannot miss this child. The child gets a copy of the locked registry and
        // must never touch it: it does not (see `child`).
        let mut starting = reaper::starting().map_err(Error::from_reaper)?;
        // SAFETY: the child runs only `child`, which makes async-signal-safe calls only and
        // leaves with `_exit`, so the other threads' locks and state it copied are never used.
        match unsafe { nix::unistd::fork() }.map_err(Error::sys("fork"))? {
            ForkResult::Child => child(index, n, &results_write, crash, parent),
            ForkResult::Parent { child } => {
                starting.track(child);
                children.pids.push(child);
            }
        }
    }
    // Our own copy of the write end would keep the pipe open forever: end-of-file comes only
    // when every holder has closed it, that is, when every child has exited.
    drop(results_write);
    // On an error or Ctrl-C, `children`' `Drop` kills and reaps whatever is left.
    let bytes = read_to_eof(&[results_read.as_fd()])?.remove(0);
    let failures = children.reap_all()?;
    let wall = watch.elapsed();

    let total = bytes
        .chunks_exact(RECORD)
        .map(|record| u64::from_ne_bytes(record[8..].try_into().expect("8 of 16 bytes")))
        .fold(0_u64, u64::wrapping_add);
    Ok(Row::new(LESSON, "fork")
        .workers(workers)
        .items(n.saturating_mul(workers as u64))
        .check(expected_total(n, workers).unwrap_or(0), total)
        .require(failures.is_empty() && bytes.len() == RECORD * workers)
        .wall(wall)
        .extra("peak_rss_kib", memory::self_peak_kib())
        .extra("child_peak_rss_kib", memory::children_peak_kib())
        .extra("failed_children", failures))
}

/// The forked child: computes, writes its record, leaves. Never returns.
fn child(index: usize, n: u64, results: &OwnedFd, crash: Option<Crash>, parent: Pid) -> ! {
    // Die with the parent even if it is SIGKILLed and cannot end us itself. If the parent died
    // before this line, we were already re-parented: checking `getppid` closes that gap.
    if set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != parent {
        exit_now(1);
    }
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: `signal` is async-signal-safe. The parent's Ctrl-C handler was copied into us
        // but its thread was not, so a terminal's Ctrl-C would be swallowed: restore the default.
        let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    }
    if index == 0 {
        match crash {
            Some(Crash::Exit) => exit_now(3),
            Some(Crash::Kill) => {
                let _ = raise(Signal::SIGKILL);
            }
            None => {}
        }
    }
    let sum = cpu_intensive_task(n);
    let mut record = [0_u8; RECORD];
    record[..8].copy_from_slice(&(index as u64).to_ne_bytes());
    record[8..].copy_from_slice(&sum.to_ne_bytes());
    // At most PIPE_BUF bytes: written whole or not at all, so a short count is an error too.
    let written = write(results, &record);
    exit_now(if written == Ok(RECORD) { 0 } else { 1 })
}

fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` ends the process at once, running nothing copied from the parent.
    unsafe { libc::_exit(code) }
}

/// The children not yet reaped. Its `Drop` ends and reaps them, so no path out of [`fork`]
/// (an error, a Ctrl-C) leaves a child running or a zombie behind.
#[derive(Debug, Default)]
struct Forked {
    pids: Vec<Pid>,
}

impl Forked {
    /// Waits for every child; returns how each failed one ended.
    fn reap_all(&mut self) -> Result<Vec<String>, Error> {
        let mut failures = Vec::new();
        while let Some(&pid) = self.pids.last() {
            // Untracked in the same locked step that reaps it: the Ctrl-C handler never
            // signals a pid the kernel has already handed to someone else.
            let status = reaper::wait(pid).map_err(Error::from_reaper)?;
            self.pids.pop();
            failures.extend(failure(status));
        }
        Ok(failures)
    }
}

impl Drop for Forked {
    fn drop(&mut self) {
        for &pid in &self.pids {
            // SIGKILL, only while the registry still tracks it, so never a recycled pid.
            reaper::kill(pid);
        }
        for &pid in &self.pids {
            let _ = reaper::wait(pid);
        }
    }
}

/// `waitpid` on one untracked child, retried when a signal interrupts it: the benchmark below
/// forks without the registry, to time the bare system calls.
fn wait(pid: Pid) -> Result<WaitStatus, Error> {
    loop {
        match waitpid(pid, None) {
            Err(nix::errno::Errno::EINTR) => continue,
            result => return result.map_err(Error::sys("waitpid")),
        }
    }
}

/// Forks a child that exits at once and reaps it: the bare cost of a process start, for the
/// `start` benchmark. Call it only where no other thread may hold a lock the child could need
/// (the child here calls nothing but `_exit`, so any caller is safe).
pub fn fork_and_reap() -> Result<(), Error> {
    // SAFETY: the child calls only `_exit`, which is async-signal-safe.
    match unsafe { nix::unistd::fork() }.map_err(Error::sys("fork"))? {
        ForkResult::Child => exit_now(0),
        ForkResult::Parent { child } => wait(child).map(drop),
    }
}
