//! `spawn`: the program re-executes itself once per task as a hidden `worker` subcommand, and
//! each worker prints its sum on stdout. Python's "spawn" start method (the default on macOS
//! and Windows, and on Linux from 3.14).
//!
//! What changed from [`fork`](crate::fork()): the child is a fresh process running `main` from
//! the start, not a copy of the parent, so none of fork's rules apply (it may allocate, print,
//! lock; it shares no pages with the parent) and it works on every OS. The price is a whole
//! program start per child: `exec`, the dynamic loader, `main`, argument parsing. The task and
//! its size travel as command-line arguments; the result comes back as one decimal line on the
//! child's stdout, a pipe the parent reads. `std::process::Command` does the `fork`/`exec` (with
//! `posix_spawn` or `vfork` where it can), so this file needs no `unsafe`.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};

use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::{Signal, raise};
use nix::unistd::getppid;
use timing::{Row, Stopwatch};

use crate::children::{Error, read_to_eof};
use crate::{Crash, LESSON, cpu_intensive_task, expected_total, memory};

/// The hidden subcommand a re-executed child runs.
pub const WORKER: &str = "worker";

/// `spawn`: runs `workers` tasks of size `n` in re-executed copies of this program. With
/// `crash`, task 0's child fails on purpose (for the tests); the row reports it by pid and cause.
pub fn spawn(n: u64, workers: usize, crash: Option<Crash>) -> Result<Row, Error> {
    let exe = std::env::current_exe().map_err(|source| Error::Spawn {
        exe: "this program".into(),
        source,
    })?;
    let watch = Stopwatch::start();
    let mut children = Spawned::default();
    for index in 0..workers {
        let crash = crash.filter(|_| index == 0);
        children.0.push(start_worker(&exe, n, crash)?);
    }
    let outputs = {
        let pipes: Vec<BorrowedFd<'_>> = children.0.iter().map(stdout_of).collect();
        // On an error or Ctrl-C, `children`' `Drop` kills and reaps every child.
        read_to_eof(&pipes)?
    };
    let (total, failures) = children.reap_all(&outputs)?;
    let wall = watch.elapsed();
    Ok(Row::new(LESSON, "spawn")
        .workers(workers)
        .items(n.saturating_mul(workers as u64))
        .check(expected_total(n, workers).unwrap_or(0), total)
        .require(failures.is_empty())
        .wall(wall)
        .extra("peak_rss_kib", memory::self_peak_kib())
        .extra("child_peak_rss_kib", memory::children_peak_kib())
        .extra("failed_children", failures))
}

/// Starts `exe worker --n N --parent PID [--crash ...]` with its stdout on a pipe.
fn start_worker(exe: &Path, n: u64, crash: Option<Crash>) -> Result<Child, Error> {
    let mut cmd = Command::new(exe);
    cmd.args([WORKER, "--n", &n.to_string()])
        .args(["--parent", &std::process::id().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // A worker's own error message goes straight to the user's terminal.
        .stderr(Stdio::inherit());
    if let Some(crash) = crash {
        cmd.args(["--crash", crash.as_arg()]);
    }
    // Locked from before the spawn until the pid is tracked, so a Ctrl-C cannot miss it.
    let mut starting = reaper::starting().map_err(Error::from_reaper)?;
    let child = cmd.spawn().map_err(|source| Error::Spawn {
        exe: exe.display().to_string(),
        source,
    })?;
    starting.track_child(&child);
    Ok(child)
}

fn stdout_of(child: &Child) -> BorrowedFd<'_> {
    // Every child is started with `Stdio::piped()` stdout, and nothing takes it out.
    child.stdout.as_ref().expect("stdout is piped").as_fd()
}

/// The children not yet reaped. Its `Drop` ends and reaps them, so no path out of [`spawn`]
/// (an error, a Ctrl-C) leaves a child behind. `Child`'s own `Drop` does neither: a dropped
/// `Child` runs on, and becomes a zombie when it exits.
#[derive(Debug, Default)]
struct Spawned(Vec<Child>);

impl Spawned {
    /// Waits for every child; returns the sum of their results (`outputs[i]` is what child `i`
    /// printed) and how each failed one ended.
    fn reap_all(&mut self, outputs: &[Vec<u8>]) -> Result<(u64, Vec<String>), Error> {
        let mut total = 0_u64;
        let mut failures = Vec::new();
        for (child, output) in self.0.iter_mut().zip(outputs) {
            // Untracked and reaped in one locked step (see `reaper`).
            let status = reaper::wait_child(child).map_err(Error::from_reaper)?;
            let pid = child.id();
            let failure = (!status.success()).then(|| reaper::describe_exit(pid, status));
            let sum = std::str::from_utf8(output)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok());
            match (failure, sum) {
                (None, Some(sum)) => total = total.wrapping_add(sum),
                (None, None) => failures.push(format!("child {pid} sent no result")),
                (Some(why), _) => failures.push(why),
            }
        }
        Ok((total, failures))
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        for child in &self.0 {
            // SIGKILL, only while the registry still tracks it, so never a recycled pid.
            reaper::kill(reaper::pid_of(child));
        }
        for child in &mut self.0 {
            let _ = reaper::wait_child(child);
        }
    }
}

/// The hidden `worker` subcommand: one task of size `n`, its sum printed on stdout. `parent` is
/// the pid of the process that started it.
pub fn worker(n: u64, crash: Option<Crash>, parent: Option<u32>) -> ExitCode {
    // Die with the parent even if it is SIGKILLed and cannot end us itself; if it died before
    // this line, we were already re-parented, which `getppid` shows.
    let orphaned = parent.is_some_and(|p| i64::from(getppid().as_raw()) != i64::from(p));
    if set_pdeathsig(Signal::SIGKILL).is_err() || orphaned {
        eprintln!("error: worker: the parent process is gone");
        return ExitCode::FAILURE;
    }
    match crash {
        Some(Crash::Exit) => return ExitCode::from(3),
        Some(Crash::Kill) => {
            let _ = raise(Signal::SIGKILL);
        }
        None => {}
    }
    println!("{}", cpu_intensive_task(n));
    ExitCode::SUCCESS
}
