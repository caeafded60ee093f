//! A failure on purpose, for the tests of failure reporting: with
//! `CPU_PROCESSES_CRASH_CHILD=exit` in the environment, the child of task 0 of `fork` and `spawn`
//! exits with status 3 before working; with `=kill` it kills itself with SIGKILL, as the OOM
//! killer would (not `abort()`: SIGABRT can leave a core file behind).
//!
//! The variable is read once, by [`load`], in `main`. A forked child may not read the
//! environment itself (std takes a lock for that, and a fork copies locks held by other
//! threads), so it reads the value [`load`] stored in an atomic, which is async-signal-safe.
//! A re-executed worker runs `main` too, so it loads the same variable it inherited.

#![allow(unsafe_code)] // `_exit`, as a forked child must leave.

use std::sync::atomic::{AtomicU8, Ordering};

use nix::sys::signal::{Signal, raise};

/// The environment variable a test sets.
pub const CRASH_CHILD: &str = "CPU_PROCESSES_CRASH_CHILD";

const NONE: u8 = 0;
const EXIT: u8 = 1;
const KILL: u8 = 2;

/// What [`load`] found. Relaxed is enough: it is stored before any child exists, and a child
/// (a fork's copy, or a thread started after) sees memory as it was when it was created.
static CRASH: AtomicU8 = AtomicU8::new(NONE);

/// Reads [`CRASH_CHILD`]: unset or empty, no fault; `exit` or `kill`, that fault; anything else
/// is an error naming what it may be.
pub fn load() -> Result<(), String> {
    let value = std::env::var(CRASH_CHILD).unwrap_or_default();
    let crash = match value.as_str() {
        "" => NONE,
        "exit" => EXIT,
        "kill" => KILL,
        other => return Err(format!("{CRASH_CHILD}={other}: use exit or kill")),
    };
    CRASH.store(crash, Ordering::Relaxed);
    Ok(())
}

/// In the child of task `index`: fails as [`load`] was told to, if this is task 0. Makes only
/// async-signal-safe calls (an atomic load, `_exit`, `raise`), so a forked child may call it.
pub fn strike(index: usize) {
    if index != 0 {
        return;
    }
    match CRASH.load(Ordering::Relaxed) {
        // SAFETY: `_exit` ends the process at once, running nothing copied from a parent.
        EXIT => unsafe { libc::_exit(3) },
        KILL => {
            let _ = raise(Signal::SIGKILL);
        }
        _ => {}
    }
}
