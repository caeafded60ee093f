//! One run of one side: its JSON rows, and the peak memory of the whole child.
//!
//! The peak resident set comes from `wait4`, which reaps the child and hands back its own
//! `rusage` (with its reaped descendants'). `getrusage(RUSAGE_CHILDREN)` would give the largest
//! of *every* child this program ever reaped, so a small run after a big one would report the
//! big one's peak; reading `/proc/<pid>/status` `VmHWM` would have to race the child's exit.

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

/// Runs `program args...`, waits for it with `wait4` and parses its rows; a failed exit is an
/// error carrying its stderr.
pub fn run(program: &std::path::Path, args: &[String]) -> Result<Outcome> {
    let mut child = Command::new(program)
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
    let (status, rss_kib) = wait4(child.id())?;
    let stderr = errs.join().unwrap_or_default();
    if status != 0 {
        bail!(
            "{} exited with status {status}: {}",
            program.display(),
            stderr.trim()
        );
    }
    let rows = crate::parse_rows(&stdout).context("reading its rows")?;
    Ok(Outcome {
        rows,
        peak_rss_mib: rss_kib as f64 / 1024.0,
    })
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
    fn a_child_s_rows_and_peak_memory_come_back() {
        let script = r#"echo '{"variant":"v","correct":true,"wall_s":1}'"#;
        let out = run(std::path::Path::new("sh"), &["-c".into(), script.into()]).unwrap();
        assert_eq!(out.rows.len(), 1);
        assert!(out.peak_rss_mib > 0.0, "{}", out.peak_rss_mib);
        let failed = run(
            std::path::Path::new("sh"),
            &["-c".into(), "echo no >&2; exit 3".into()],
        );
        let msg = format!("{:#}", failed.unwrap_err());
        assert!(msg.contains("status 3") && msg.contains("no"), "{msg}");
    }
}
