//! Step 3: one forked child process per task, results back through one pipe, every child
//! reaped. Python's "fork" start method (the Linux default before 3.14).
//!
//! Since step 2: each worker is a process with its own copy-on-write copy of the address space,
//! so a crash in one cannot corrupt the others, and a result has to be *sent* back: each child
//! writes one 24-byte record into one shared pipe, and a pipe `write` of at most `PIPE_BUF`
//! (4096) bytes is atomic, so records never interleave. In a process with other threads (the
//! Ctrl-C handler's, at least) the child is a copy of the forking thread alone, and a lock
//! another thread held stays locked forever in it. So the child makes only async-signal-safe
//! calls (no allocation, no `println!`, no locks) and leaves by `libc::_exit` on every path, a
//! panic included: `std::process::exit` would run the parent's copied atexit handlers and flush
//! its copied stdout buffer twice.

#![allow(unsafe_code)] // this step is about `fork`, which is unsafe: we keep the rules above.

// ANCHOR: pattern
use std::fs::File;
use std::io::Read as _;
use std::os::fd::OwnedFd;

use nix::fcntl::OFlag;
use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{SigHandler, Signal, signal};
use nix::sys::wait::WaitStatus;
use nix::unistd::{ForkResult, Pid, getpid, getppid, pipe2, write};

use super::{Children, Error, cpu_intensive_task, peak_rss_kib};

/// Bytes in one child's record: task index, sum and peak KiB, native-endian `u64`s (the reader
/// is the same program on the same machine).
const RECORD: usize = 24;

/// Runs `workers` tasks of size `n`, one per forked child, and returns what they sent back.
pub fn run(n: u64, workers: usize) -> Result<Children, Error> {
    // O_CLOEXEC: `fork` keeps the pipe either way, but another thread's `exec` must not.
    let (results_read, results_write) = pipe2(OFlag::O_CLOEXEC).map_err(|errno| Error::Sys {
        call: "pipe2",
        errno,
    })?;
    let mut forked = Forked(Vec::with_capacity(workers));
    let parent = getpid();
    for index in 0..workers {
        // Locked from before the fork until the pid is tracked, so a Ctrl-C cannot miss this
        // child. The child's copy of the locked registry is never touched (see `child`).
        let mut starting = reaper::starting().map_err(Error::from_reaper)?;
        // SAFETY: the child runs only `child`: async-signal-safe calls, then `_exit`, never
        // returning here. It panics only when a test asks (`fault`); its `ExitOnUnwind` guard
        // then `_exit`s before unwinding reaches these frames (the panic hook may still block).
        let forked_now = unsafe { nix::unistd::fork() }.map_err(|errno| Error::Sys {
            call: "fork",
            errno,
        })?;
        match forked_now {
            ForkResult::Child => child(index, n, &results_write, parent),
            ForkResult::Parent { child } => {
                starting.track(child);
                forked.0.push(child);
            }
        }
    }
    // Our own copy of the write end would keep the pipe open forever: end-of-file comes only
    // when every holder has closed it, that is, when every child has exited.
    drop(results_write);
    let mut bytes = Vec::with_capacity(RECORD * workers);
    // On an error here, or a Ctrl-C, `forked`'s `Drop` kills and reaps whatever is left.
    File::from(results_read)
        .read_to_end(&mut bytes)
        .map_err(Error::Read)?;
    let mut children = Children {
        failures: forked.reap_all()?,
        ..Children::default()
    };
    for record in bytes.chunks_exact(RECORD) {
        // Three 8-byte fields of a 24-byte record: each slice converts to `[u8; 8]`.
        let field = |i: usize| u64::from_ne_bytes(record[i * 8..i * 8 + 8].try_into().expect("8"));
        children.total = children.total.wrapping_add(field(1));
        children.peaks_kib.push(field(2));
        children.results += 1;
    }
    Ok(children)
}

/// The forked child: computes, writes its record, leaves. Never returns, not even by a panic.
fn child(index: usize, n: u64, results: &OwnedFd, parent: Pid) -> ! {
    let _unwinding_ends_here = ExitOnUnwind;
    // Die with the parent even if it is SIGKILLed; one gone before this line has left us
    // re-parented, which `getppid` shows. It fires when the *thread* that forked us ends, not
    // the process: `run` forks from its caller's, the main thread, which lasts as long.
    if set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != parent {
        exit_now(1);
    }
    for sig in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: `signal` is async-signal-safe. The parent's Ctrl-C handler was copied into us
        // but its thread was not, so a terminal's Ctrl-C would be swallowed: restore the default.
        let _ = unsafe { signal(sig, SigHandler::SigDfl) };
    }
    // ANCHOR_END: pattern
    // A test may make this child fail here (see `fault`: async-signal-safe, but for `panic`).
    crate::fault::strike(index);
    // ANCHOR: pattern_continued
    let sum = cpu_intensive_task(n);
    let mut record = [0_u8; RECORD];
    let fields = [index as u64, sum, peak_rss_kib().unwrap_or(0)];
    for (slot, field) in record.chunks_exact_mut(8).zip(fields) {
        slot.copy_from_slice(&field.to_ne_bytes());
    }
    // At most PIPE_BUF bytes: written whole or not at all, so a short count is an error too.
    let written = write(results, &record);
    exit_now(if written == Ok(RECORD) { 0 } else { 1 })
}

/// Dropped only by a panic (all else leaves `child` by `_exit`): ends the child with status
/// 101, like a panicking `main`, rather than unwind into the parent's copied frames, where
/// `Forked`'s `Drop` would SIGKILL the siblings this copy lists (`catch_unwind` would need the
/// body in a closure). The panic hook still runs and allocates: the child must still not panic.
struct ExitOnUnwind;

impl Drop for ExitOnUnwind {
    fn drop(&mut self) {
        exit_now(101);
    }
}

fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` ends the process at once, running nothing copied from the parent.
    unsafe { libc::_exit(code) }
}

/// The children not yet reaped. Its `Drop` ends and reaps them, so no path out of [`run`] (an
/// error, a Ctrl-C) leaves a child running or a zombie behind.
struct Forked(Vec<Pid>);

impl Forked {
    /// Waits for every child; returns how each failed one ended.
    fn reap_all(&mut self) -> Result<Vec<String>, Error> {
        let mut failures = Vec::new();
        while let Some(&pid) = self.0.last() {
            // Untracked in the same locked step that reaps it: the Ctrl-C handler never
            // signals a pid the kernel has already handed to someone else.
            let status = reaper::wait(pid).map_err(Error::from_reaper)?;
            self.0.pop();
            if !matches!(status, WaitStatus::Exited(_, 0)) {
                failures.push(reaper::describe(status));
            }
        }
        // Reaped last to first: put the failures back in the order the children started.
        failures.reverse();
        Ok(failures)
    }
}

impl Drop for Forked {
    fn drop(&mut self) {
        for &pid in &self.0 {
            // SIGKILL, only while the registry still tracks it, so never a recycled pid.
            reaper::kill(pid);
        }
        for &pid in &self.0 {
            let _ = reaper::wait(pid);
        }
    }
}
// ANCHOR_END: pattern_continued
