//! What this program does when started with `--worker <role>`: the child's side of one step,
//! after what every child does first (die with its parent, leave Ctrl-C to the parent), with the
//! faults a test can inject through [`DIES_AFTER`] and [`DIES_HOLDING_LOCK`]. The parent's
//! side is in [`crate::process`].

use anyhow::{Context as _, bail};
use clap::Parser;
use nix::sys::signal::{SigSet, Signal, kill};
use nix::unistd::{getpid, getppid};

use crate::measure::Variant;
use crate::shm::Segment;
use crate::shm_lock::SharedLock;
use crate::steps::s2_pipe::Flush;
use crate::steps::{
    s1_channel, s2_pipe, s4_tuned_pipe, s5_locked_counter, s6_atomic_counter, s7_shared_array,
    s8_shm_ring,
};

/// The environment variable that makes every worker die by SIGKILL, as `kill -9` would, after
/// this many units of work (messages sent, increments made, elements filled); at 0 it dies
/// before it attaches. The fault tests set it on the parent, whose children inherit it.
pub const DIES_AFTER: &str = "QUEUE_IPC_CHILD_DIES_AFTER";

/// The environment variable that makes every `shm-counter-locked` worker, after this many
/// increments, take the lock and die by SIGKILL holding it: a holder killed mid-section.
pub const DIES_HOLDING_LOCK: &str = "QUEUE_IPC_CHILD_DIES_HOLDING_LOCK";

/// A worker's command line, as the steps write it; never typed by people.
#[derive(Debug, Parser)]
#[command(name = "queue-ipc --worker")]
struct WorkerCli {
    /// Which step's child to be.
    #[arg(long, value_enum)]
    worker: Role,
    /// The ipc-channel server name (a shared-memory segment comes as stdin instead).
    #[arg(long, default_value = "")]
    name: String,
    /// Messages to send, increments to make, or elements to fill.
    #[arg(long)]
    count: u64,
    /// Payload bytes per message.
    #[arg(long, default_value_t = 0)]
    bytes: usize,
    /// The parent's pid: the worker exits at once if its parent is already gone.
    #[arg(long)]
    parent: u32,
}

/// The child of each step: one per variant, spelled as `--variant` spells it, which is how the
/// steps' commands name it.
type Role = Variant;

/// Runs this process as the worker its command line names.
pub fn main() -> anyhow::Result<()> {
    let cli = WorkerCli::parse();
    become_worker(cli.parent)?;
    let dies = fault(DIES_AFTER)?;
    if dies == Some(0) {
        die_now();
    }
    let holding = match cli.worker {
        Role::ShmCounterLocked => fault(DIES_HOLDING_LOCK)?,
        _ => None,
    };
    let count = dies.into_iter().chain(holding).fold(cli.count, u64::min);
    let (name, bytes) = (cli.name.as_str(), cli.bytes);
    match cli.worker {
        Role::IpcChannel => s1_channel::child(name, count, bytes),
        Role::Pipe => s2_pipe::child(count, bytes, Flush::WhenFull),
        Role::PipePerMessage => s2_pipe::child(count, bytes, Flush::EachMessage),
        Role::PipeTuned => s4_tuned_pipe::child(count, bytes),
        Role::ShmCounterLocked => s5_locked_counter::child(count),
        Role::ShmCounter => s6_atomic_counter::child(count),
        Role::ShmArray => s7_shared_array::child(count),
        Role::ShmRing => s8_shm_ring::child(count, bytes),
    }
    .context("the worker's side")?;
    if holding == Some(count) {
        die_holding_the_lock()?;
    }
    if count < cli.count {
        // The injected fault: the units before it are done (and flushed, so the parent can
        // count them exactly); the rest never will be.
        die_now();
    }
    Ok(())
}

/// Run first in every worker: ask the kernel to SIGKILL this process when its parent dies (so a
/// parent killed with `kill -9` leaves no orphan working on), then check that the parent is still
/// the one that started us, since it may have died before the request was made.
///
/// `PR_SET_PDEATHSIG` fires when the parent *thread* that started this process ends, not when
/// the parent process does: a child started from a short-lived thread would be killed when that
/// thread returns, with its parent alive and well. It is right here because the steps start
/// every child from the parent's main thread, which ends only with the process. A program that
/// starts children from worker threads needs another way (a pipe the child watches for end of
/// file, say).
///
/// It also blocks SIGINT: Ctrl-C in a terminal signals the whole process group, and the parent,
/// which owns the children, should be the one to end them and report it (exit 130), rather than
/// race its children's deaths and report them as failures.
fn become_worker(parent: u32) -> anyhow::Result<()> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).context("prctl(PR_SET_PDEATHSIG)")?;
    let mut interrupt = SigSet::empty();
    interrupt.add(Signal::SIGINT);
    interrupt.thread_block().context("blocking SIGINT")?;
    if u32::try_from(getppid().as_raw()).ok() != Some(parent) {
        bail!("parent {parent} is gone");
    }
    Ok(())
}

/// The fault environment variable `var` asks for (a count of units), if any.
fn fault(var: &str) -> anyhow::Result<Option<u64>> {
    match std::env::var(var) {
        Ok(text) => text
            .parse()
            .map(Some)
            .with_context(|| format!("{var}={text:?} is not a whole number")),
        Err(_) => Ok(None),
    }
}

/// Takes step 5's lock and dies holding it, as a child killed mid-section would.
fn die_holding_the_lock() -> anyhow::Result<()> {
    let segment = Segment::inherited(s5_locked_counter::LEN)?;
    let lock = SharedLock::attach(&segment, s5_locked_counter::LOCK_AT);
    // Never released: the process dies with it held.
    std::mem::forget(lock.lock()?);
    die_now()
}

/// Dies here as `kill -9` would kill it.
fn die_now() -> ! {
    let _ = kill(getpid(), Signal::SIGKILL);
    // SIGKILL to oneself is delivered before `kill` returns to user space; abort is a backstop.
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_command_line_parses_and_a_stray_role_does_not() {
        let args = [
            "queue-ipc",
            "--worker",
            "pipe-tuned",
            "--count",
            "3",
            "--parent",
            "1",
        ];
        let cli = WorkerCli::try_parse_from(args).unwrap();
        assert_eq!((cli.worker, cli.count, cli.bytes), (Role::PipeTuned, 3, 0));
        let stray = [
            "queue-ipc",
            "--worker",
            "queue",
            "--count",
            "3",
            "--parent",
            "1",
        ];
        assert!(WorkerCli::try_parse_from(stray).is_err());
    }
}
