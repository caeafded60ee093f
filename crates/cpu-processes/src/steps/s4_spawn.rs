//! Step 4: this program re-executed once per task, as a worker that prints its sum on stdout.
//! Python's "spawn" start method (the default on macOS and Windows, and on Linux from 3.14).
//!
//! Since step 3: the child is a fresh process running `main` from the start, not a copy of the
//! parent, so none of fork's rules apply (it may allocate, print, lock; it shares no pages with
//! the parent) and it works on every OS. The price is a whole program start per child: `exec`,
//! the dynamic loader, `main`, argument parsing. The task's size travels as an argument; the
//! result comes back as one line on the child's stdout, a pipe the parent reads.
//! `std::process::Command` does the `fork`/`exec` (with `posix_spawn` or `vfork` where it can),
//! so this step needs no `unsafe`.

// ANCHOR: pattern
use std::io::Read as _;
use std::process::{Child, Command, ExitCode, Stdio};

use nix::sys::prctl::set_pdeathsig;
use nix::sys::signal::Signal;
use nix::unistd::getppid;

use super::{Children, Error, cpu_intensive_task, peak_rss_kib};

/// The first argument that makes this program a worker. A flag checked before the command
/// line is parsed, not a subcommand, so a stray word on the command line is still an error.
pub const WORKER_FLAG: &str = "--worker";

/// Runs `workers` tasks of size `n`, one per re-executed copy of this program, and returns what
/// they printed.
pub fn run(n: u64, workers: usize) -> Result<Children, Error> {
    let exe = std::env::current_exe().map_err(|source| Error::Spawn {
        exe: "this program".into(),
        source,
    })?;
    let mut spawned = Spawned(Vec::with_capacity(workers));
    for index in 0..workers {
        let mut command = Command::new(&exe);
        command
            .args([
                WORKER_FLAG,
                "--n",
                &n.to_string(),
                "--index",
                &index.to_string(),
            ])
            .args(["--parent", &std::process::id().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // A worker's own error message goes straight to the user's terminal.
            .stderr(Stdio::inherit());
        // Locked from before the spawn until the pid is tracked, so a Ctrl-C cannot miss it.
        let mut starting = reaper::starting().map_err(Error::from_reaper)?;
        let child = command.spawn().map_err(|source| Error::Spawn {
            exe: exe.display().to_string(),
            source,
        })?;
        starting.track_child(&child);
        spawned.0.push(child);
    }
    // Each child writes one short line, far below a pipe's 64 KiB, so none can block on its
    // pipe while we read another's: reading them in turn costs no parallelism. On an error, or
    // a Ctrl-C, `spawned`'s `Drop` kills and reaps every child.
    let mut outputs = Vec::with_capacity(workers);
    for child in &mut spawned.0 {
        let mut line = String::new();
        if let Some(stdout) = child.stdout.as_mut() {
            stdout.read_to_string(&mut line).map_err(Error::Read)?;
        }
        outputs.push(line);
    }
    spawned.reap_all(&outputs)
}

/// The children not yet reaped. Its `Drop` ends and reaps them, so no path out of [`run`] (an
/// error, a Ctrl-C) leaves a child behind. `Child`'s own `Drop` does neither: a dropped `Child`
/// runs on, and becomes a zombie when it exits.
struct Spawned(Vec<Child>);

impl Spawned {
    /// Reaps every child and adds up what each printed (`outputs[i]` is child `i`'s line).
    ///
    /// Each child leaves the list in the step that reaps it, so whatever path leaves [`run`]
    /// afterwards (this returning early on an error, or the normal end), `Drop` kills and waits
    /// only for children nobody has waited for: each child is reaped exactly once. Waiting for
    /// a reaped pid again would be a wait on a number the kernel may already have handed on.
    fn reap_all(&mut self, outputs: &[String]) -> Result<Children, Error> {
        let mut children = Children::default();
        // Last to first, as `Vec::pop` gives them; the failures are put back in order below.
        while let Some(child) = self.0.last_mut() {
            // Untracked and reaped in one locked step (see `reaper`).
            let status = reaper::wait_child(child).map_err(Error::from_reaper)?;
            let pid = child.id();
            self.0.pop();
            let output = outputs.get(self.0.len()).map_or("", String::as_str);
            let mut numbers = output.split_whitespace().map(str::parse::<u64>);
            match (status.success(), numbers.next(), numbers.next()) {
                (true, Some(Ok(sum)), Some(Ok(peak))) => {
                    children.total = children.total.wrapping_add(sum);
                    children.peaks_kib.push(peak);
                    children.results += 1;
                }
                (true, ..) => children
                    .failures
                    .push(format!("child {pid} sent no result")),
                (false, ..) => children.failures.push(reaper::describe_exit(pid, status)),
            }
        }
        children.failures.reverse();
        Ok(children)
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

/// The worker's side, run by `main` when started with [`WORKER_FLAG`]: one task of size `n`,
/// then its sum and its own peak memory in KiB on one line of stdout. `parent` is the pid of
/// the process that started it.
pub fn worker(n: u64, parent: Option<u32>) -> ExitCode {
    // Die with the parent even if it is SIGKILLed and cannot end us itself; if it died before
    // this line, we were already re-parented, which `getppid` shows. The signal comes when the
    // *thread* that started us ends, not the parent process: a worker started from a
    // short-lived thread would be killed mid-task when that thread returned. `run` starts every
    // worker from its caller's thread, the main thread here, which lasts as long as the process.
    let orphaned = parent.is_some_and(|p| i64::from(getppid().as_raw()) != i64::from(p));
    if set_pdeathsig(Signal::SIGKILL).is_err() || orphaned {
        eprintln!("error: worker: the parent process is gone");
        return ExitCode::FAILURE;
    }
    let sum = cpu_intensive_task(n);
    println!("{sum} {}", peak_rss_kib().unwrap_or(0));
    ExitCode::SUCCESS
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_child_is_reaped_once_and_leaves_nothing_for_drop() {
        // `sh` children, not this test binary re-executed: only `reap_all` is under test.
        let spawn = |script: &str| reaper::spawn(Command::new("sh").args(["-c", script]));
        let mut spawned = Spawned(vec![
            spawn("exit 0").expect("sh starts"),
            spawn("exit 4").expect("sh starts"),
        ]);
        let children = spawned
            .reap_all(&["5 7".to_string(), String::new()])
            .expect("both are reaped");
        assert_eq!((children.total, children.results), (5, 1));
        assert_eq!(children.failures.len(), 1, "{:?}", children.failures);
        assert!(children.failures[0].contains("status 4"), "{children:?}");
        assert!(
            spawned.0.is_empty(),
            "{} reaped child(ren) left for Drop to wait for again",
            spawned.0.len()
        );
    }
}
