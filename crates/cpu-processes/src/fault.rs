//! A failure on purpose, for the tests of failure reporting. With `CPU_PROCESSES_CRASH_CHILD`
//! in the environment, a child of `fork` and `spawn` fails before working:
//! - `exit`: the child of task 0 exits with status 3;
//! - `kill`: the child of task 0 kills itself with SIGKILL, as the OOM killer would (not
//!   `abort()`: SIGABRT can leave a core file behind);
//! - `panic`: the child of task 1 panics. The second child, because a forked child's copy of
//!   the parent lists the children started before it: a panic that unwound through the
//!   parent's copied frames would reach the code that kills them.
//!
//! With `CPU_PROCESSES_CRASH_NTH=R:PATH` as well, only the R-th child of that task fails: each
//! such child appends one byte to the file PATH and counts the bytes. With one `--variant`,
//! that is round R alone.
//!
//! The variables are read once, by [`load`], in `main`. A forked child may not read the
//! environment itself (std takes a lock for that, and a fork copies locks held by other
//! threads), so it reads what [`load`] stored in atomics and a `OnceLock`, which is
//! async-signal-safe once set. A re-executed worker runs `main` too, so it loads the same
//! variables it inherited.

#![allow(unsafe_code)] // `_exit`, as a forked child must leave.

use std::ffi::CString;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use nix::fcntl::{OFlag, open};
use nix::sys::signal::{Signal, raise};
use nix::sys::stat::{Mode, fstat};
use nix::unistd::write;

/// The environment variable a test sets to make a child fail.
pub const CRASH_CHILD: &str = "CPU_PROCESSES_CRASH_CHILD";
/// The environment variable that limits the failure to one child: `R:PATH`.
pub const CRASH_NTH: &str = "CPU_PROCESSES_CRASH_NTH";

const NONE: u8 = 0;
const EXIT: u8 = 1;
const KILL: u8 = 2;
const PANIC: u8 = 3;

/// What [`load`] found. Relaxed is enough: it is stored before any child exists, and a child
/// (a fork's copy, or a thread started after) sees memory as it was when it was created.
static CRASH: AtomicU8 = AtomicU8::new(NONE);
/// Which child of the task fails, counting from 1; 0: every one.
static NTH: AtomicU64 = AtomicU64::new(0);
/// Where the children of the task count themselves when [`NTH`] is set.
static TALLY: OnceLock<CString> = OnceLock::new();

/// Reads [`CRASH_CHILD`] and [`CRASH_NTH`]: unset or empty, no fault; anything malformed is an
/// error naming what it may be.
pub fn load() -> Result<(), String> {
    let value = std::env::var(CRASH_CHILD).unwrap_or_default();
    let crash = match value.as_str() {
        "" => NONE,
        "exit" => EXIT,
        "kill" => KILL,
        "panic" => PANIC,
        other => return Err(format!("{CRASH_CHILD}={other}: use exit, kill or panic")),
    };
    let nth = std::env::var(CRASH_NTH).unwrap_or_default();
    if let Some((round, path)) = nth.split_once(':') {
        let bad = || format!("{CRASH_NTH}={nth}: use R:PATH, R from 1");
        let round: u64 = round.parse().ok().filter(|&r| r > 0).ok_or_else(bad)?;
        let path = CString::new(path).map_err(|_| bad())?;
        // A worker re-executed by `spawn` loads once too; a second `load` in one process
        // keeps the first path, which is the same variable.
        let _ = TALLY.set(path);
        NTH.store(round, Ordering::Relaxed);
    } else if !nth.is_empty() {
        return Err(format!("{CRASH_NTH}={nth}: use R:PATH, R from 1"));
    }
    CRASH.store(crash, Ordering::Relaxed);
    Ok(())
}

/// In the child of task `index`: fails as [`load`] was told to, if this is the task and the
/// child it names. Makes only async-signal-safe calls (atomic loads, `open`, `write`, `fstat`,
/// `_exit`, `raise`), so a forked child may call it; only `panic` goes further, on purpose.
pub fn strike(index: usize) {
    let crash = CRASH.load(Ordering::Relaxed);
    let task = if crash == PANIC { 1 } else { 0 };
    if crash == NONE || index != task || !this_one() {
        return;
    }
    match crash {
        // SAFETY: `_exit` ends the process at once, running nothing copied from a parent.
        EXIT => unsafe { libc::_exit(3) },
        KILL => {
            let _ = raise(Signal::SIGKILL);
        }
        _ => panic!("a fault injected by CPU_PROCESSES_CRASH_CHILD=panic"),
    }
}

/// Whether this child is the one [`NTH`] names: counts itself in the tally file (one byte
/// appended, then the file's length) when it is set; always true when it is not.
fn this_one() -> bool {
    let nth = NTH.load(Ordering::Relaxed);
    let Some(path) = TALLY.get().filter(|_| nth > 0) else {
        return true;
    };
    let flags = OFlag::O_WRONLY | OFlag::O_APPEND | OFlag::O_CREAT | OFlag::O_CLOEXEC;
    let Ok(fd) = open(path.as_c_str(), flags, Mode::from_bits_truncate(0o600)) else {
        return false;
    };
    // O_APPEND: each byte lands at the end, whichever child writes it.
    write(&fd, b".").is_ok() && fstat(&fd).is_ok_and(|stat| stat.st_size as u64 == nth)
}
