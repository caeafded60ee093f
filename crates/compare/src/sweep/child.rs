//! One run of one side: its JSON rows, and the peak memory of the whole child.
//!
//! The peak resident set comes from `wait4`, which reaps the child and hands back its own
//! `rusage` (with its reaped descendants'). `getrusage(RUSAGE_CHILDREN)` would give the largest
//! of *every* child this program ever reaped, so a small run after a big one would report the
//! big one's peak; reading `/proc/<pid>/status` `VmHWM` would have to race the child's exit.
//!
//! Linux folds the peak of the memory a process had before `exec` into its `ru_maxrss`, and a
//! child starts with its parent's (a copy after `fork`, the same one under `posix_spawn`). This
//! program holds large buffers at times (the memcpy probe), so it never starts a measured child
//! itself: it starts a fresh copy of itself as a launcher ([`LAUNCH`]), a few MiB, which starts
//! the child, reaps it with `wait4` and reports its peak on stderr's last line.

#![allow(unsafe_code)] // `wait4` has no safe wrapper in std: `Child::wait` drops the rusage.

use std::io::Read;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

/// What one run of one side left.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Its `--json` rows.
    pub rows: Vec<Value>,
    /// The child's peak resident set in MiB (`ru_maxrss` is in KiB on Linux).
    pub peak_rss_mib: f64,
}

/// The first argument that makes this program a launcher: `sweep --launch PROGRAM ARGS...`.
pub const LAUNCH: &str = "--launch";

/// The launcher's last line on stderr, before the child's peak in KiB.
const PEAK: &str = "sweep-launch: peak KiB ";

/// Runs `program args...` through a launcher, and parses its rows; a failed exit is an error
/// carrying its stderr.
pub fn run(program: &std::path::Path, args: &[String]) -> Result<Outcome> {
    let me = std::env::current_exe().context("finding this program, to launch from")?;
    let mut child = Command::new(me)
        .arg(LAUNCH)
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    // stderr is drained on a thread of its own, so a child that fills one pipe while this
    // program reads the other cannot stall both.
    let mut stderr = child.stderr.take().context("the child's stderr is piped")?;
    let errs = std::thread::spawn(move || {
        let mut text = String::new();
        // An unreadable stderr only loses the message of a failure, which the status still tells.
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .context("the child's stdout is piped")?
        .read_to_string(&mut stdout)
        .context("reading the child's rows")?;
    let (status, _) = wait4(child.id())?;
    let stderr = errs.join().unwrap_or_default();
    let (stderr, peak) = stderr.rsplit_once(PEAK).unwrap_or((&stderr, ""));
    if status != 0 {
        let (program, stderr) = (program.display(), stderr.trim());
        bail!("{program} exited with status {status}: {stderr}");
    }
    let rss_kib: f64 = peak
        .trim()
        .parse()
        .context("the launcher reported no peak")?;
    let rows = crate::parse_rows(&stdout).context("reading its rows")?;
    Ok(Outcome {
        rows,
        peak_rss_mib: rss_kib / 1024.0,
    })
}

/// The launcher: runs `PROGRAM ARGS...` (the arguments after [`LAUNCH`]) with this process's
/// stdin, stdout and stderr, reaps it with `wait4`, prints its peak and exits as it did.
pub fn launch(mut args: impl Iterator<Item = String>) -> std::process::ExitCode {
    let Some(program) = args.next() else {
        eprintln!("{LAUNCH} needs a program to run");
        return std::process::ExitCode::from(2);
    };
    let outcome = Command::new(&program)
        .args(args)
        .spawn()
        .map_err(anyhow::Error::from)
        .and_then(|c| wait4(c.id()));
    match outcome {
        Ok((status, kib)) => {
            eprintln!("{PEAK}{kib}");
            std::process::ExitCode::from(u8::try_from(status).unwrap_or(1))
        }
        Err(err) => {
            eprintln!("starting {program}: {err:#}");
            std::process::ExitCode::from(1)
        }
    }
}

/// Reaps `pid`: its exit code (128 + the signal when killed) and its peak RSS in KiB.
fn wait4(pid: u32) -> Result<(i32, i64)> {
    let mut status = 0;
    // SAFETY: `rusage` is plain data that `wait4` fills in; all zeroes is a valid value of it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = libc::pid_t::try_from(pid).context("a pid fits in pid_t")?;
    loop {
        // SAFETY: `pid` is our own child, not yet reaped (its `Child` is never waited on), and
        // both pointers are to live locals for the length of the call.
        let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if got == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err).context("waiting for the child");
        }
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    Ok((code, usage.ru_maxrss))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::zombie_processes)] // `wait4` reaps it, which clippy cannot see.
    fn wait4_gives_the_exit_status_and_a_peak() {
        let child = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let (status, kib) = wait4(child.id()).unwrap();
        assert_eq!(status, 3);
        assert!(kib > 0, "{kib}");
    }
}
