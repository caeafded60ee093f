//! The lesson, one step a file, in reading order. Every step runs the same tasks, the
//! tutorial's [`cpu_intensive_task`], and starts its threads or processes in its own body; it
//! returns what the tasks computed. Timing lives in [`crate::measure`], never here.
//!
//! 1. [`s1_sequential`]: the tasks one after another: the baseline.
//! 2. [`s2_threads`]: one thread per task, all in this process.
//! 3. [`s3_fork`]: one forked child per task, results back through a pipe.
//! 4. [`s4_spawn`]: this program re-executed per task, each result on the child's stdout.

use std::hint::black_box;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use nix::unistd::read;

pub mod s1_sequential;
pub mod s2_threads;
pub mod s3_fork;
pub mod s4_spawn;

// ANCHOR: task
/// The tutorial's `cpu_intensive_task(n)`: the sum of `0..n`, one addition at a time.
///
/// `std::hint::black_box` hides each `i` from the optimiser. Without it LLVM recognises the loop
/// as an arithmetic series and replaces it with `n * (n - 1) / 2` (its "scalar evolution" pass
/// does exactly that), so the "work" would take nanoseconds and every step would measure only
/// its own start-up cost. `wrapping_add` rather than `+`: callers only pass an `n` whose sum
/// fits, and `+` would add a debug-build overflow check whose panic path allocates, which a
/// forked child must never do.
///
/// `#[inline(never)]`: every step then runs this one copy of the machine code. Inlined, each
/// call site gets its own copy of the loop, placed and register-allocated differently, and the
/// same loop can run up to twice as fast at one site as at another, which the table would blame
/// on threads or processes.
#[inline(never)]
pub fn cpu_intensive_task(n: u64) -> u64 {
    let mut total: u64 = 0;
    for i in 0..n {
        total = total.wrapping_add(black_box(i));
    }
    total
}
// ANCHOR_END: task

// ANCHOR: children
/// What the children of steps 3 and 4 sent back, and how each one that failed ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Children {
    /// The sum of every result received.
    pub total: u64,
    /// How many children sent a result.
    pub results: usize,
    /// Each reporting child's own peak resident memory ([`peak_rss_kib`]), in KiB.
    pub peaks_kib: Vec<u64>,
    /// How each failed child ended, by pid: "child 4242 killed by SIGKILL".
    pub failures: Vec<String>,
}
// ANCHOR_END: children

/// This process's peak resident memory so far, in KiB: `VmHWM` in `/proc/self/status`, or
/// `None` where it cannot be read.
///
/// Each child reports its own figure this way, before it exits, because nothing else gives it:
/// `getrusage(RUSAGE_SELF)` keeps the peak of the program that *exec'd* this one (a
/// `cargo run`, or for a spawned child, this parent), and `RUSAGE_CHILDREN` keeps the largest
/// child ever reaped, before the exec too. `VmHWM` belongs to the address space, and `exec`
/// starts a new one. A forked child's figure counts the pages it still shares copy-on-write
/// with its parent, so it overstates what a fork adds.
///
/// A forked child calls this, so it makes only async-signal-safe calls (`open`, `read`,
/// `close`), allocates nothing and cannot panic: the file goes into a buffer on the stack.
pub fn peak_rss_kib() -> Option<u64> {
    let fd = open(
        c"/proc/self/status",
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let mut buf = [0_u8; 4096];
    let mut len = 0;
    while let Some(free) = buf.get_mut(len..).filter(|free| !free.is_empty()) {
        match read(&fd, free) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(Errno::EINTR) => {}
            Err(_) => return None,
        }
    }
    field_kib(buf.get(..len)?, b"VmHWM:")
}

/// The number after `name` in a `/proc/*/status` text (`VmHWM:  2940 kB`), without allocating.
fn field_kib(status: &[u8], name: &[u8]) -> Option<u64> {
    let mut lines = status.split(|&b| b == b'\n');
    let rest = lines.find_map(|line| line.strip_prefix(name))?;
    let digits = rest.iter().skip_while(|b| b.is_ascii_whitespace());
    let mut value = None;
    for &digit in digits.take_while(|b| b.is_ascii_digit()) {
        let shifted = value.unwrap_or(0_u64).checked_mul(10)?;
        value = Some(shifted.checked_add(u64::from(digit - b'0'))?);
    }
    value
}

// ANCHOR: error
/// What can go wrong running a step, other than a child failing (which is part of the
/// outcome, [`Children::failures`], not an error: the run goes on and reports it).
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
    #[error("worker thread {index} panicked: {message}")]
    ThreadPanicked {
        /// Which thread, counting from 0.
        index: usize,
        /// The panic's message.
        message: String,
    },
    /// A system call failed (`fork`, `pipe2`).
    #[error("{call}: {errno}")]
    Sys {
        /// The call that failed.
        call: &'static str,
        /// Its error number.
        errno: Errno,
    },
    /// Reading the children's results failed.
    #[error("reading the children's results: {0}")]
    Read(std::io::Error),
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
    /// A `reaper` error as ours, for `map_err`: a refused start is [`Error::Interrupted`].
    pub fn from_reaper(err: reaper::Error) -> Error {
        match err {
            reaper::Error::Interrupted => Error::Interrupted,
            other => Error::Wait(other),
        }
    }
}
// ANCHOR_END: error

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_agrees_with_a_plain_sum() {
        for n in [0, 1, 2, 3, 10, 1000, 12_345] {
            let reference: u64 = (0..n).sum();
            assert_eq!(cpu_intensive_task(n), reference, "n = {n}");
        }
    }

    #[test]
    fn status_fields_are_read_without_allocating() {
        let status = b"Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t  2940 kB\nVmRSS:\t 100 kB\n";
        assert_eq!(field_kib(status, b"VmHWM:"), Some(2940));
        assert_eq!(field_kib(status, b"VmSwap:"), None);
        assert_eq!(field_kib(b"VmHWM:\t kB\n", b"VmHWM:"), None);
    }

    #[test]
    fn this_process_has_a_resident_peak() {
        // A running test binary holds at least its code and a stack: more than 100 KiB.
        assert!(peak_rss_kib().is_some_and(|kib| kib > 100));
    }
}
