//! The worker's side of every child process: what it does first (die with its parent, leave
//! Ctrl-C to the parent), the "ready" line that tells the parent it has attached, and the
//! `kill -9` it injects on itself for the fault tests. The parent's side is in
//! [`crate::process`].

use std::io;

use anyhow::{Context as _, bail};
use nix::sys::signal::{SigSet, Signal, kill};
use nix::unistd::{getpid, getppid};

/// Run first in every worker: ask the kernel to SIGKILL this process when its parent dies (so a
/// parent killed with `kill -9` leaves no orphan working on), then check that the parent is still
/// the one that started us, since it may have died before the request was made.
///
/// It also blocks SIGINT: Ctrl-C in a terminal signals the whole process group, and the parent,
/// which owns the children, should be the one to end them and report it (exit 130), rather than
/// race its children's deaths and report them as failures.
pub(crate) fn become_worker(parent: u32) -> anyhow::Result<()> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).context("prctl(PR_SET_PDEATHSIG)")?;
    let mut interrupt = SigSet::empty();
    interrupt.add(Signal::SIGINT);
    interrupt.thread_block().context("blocking SIGINT")?;
    if u32::try_from(getppid().as_raw()).ok() != Some(parent) {
        bail!("parent {parent} is gone");
    }
    Ok(())
}

/// Dies here as `kill -9` would kill it: the hidden `--child-dies-after` fault for the tests.
pub(crate) fn die_now() -> ! {
    let _ = kill(getpid(), Signal::SIGKILL);
    // SIGKILL to oneself is delivered before `kill` returns to user space; abort is a backstop.
    std::process::abort()
}

/// Waits for one line (the child's "ready") on its stdout, or end of file if it died first.
pub(crate) fn read_ready(stdout: &mut impl io::BufRead) -> io::Result<bool> {
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    Ok(line.trim_end() == READY)
}

/// What a worker prints on stdout once it has attached to the segment.
pub(crate) const READY: &str = "ready";
