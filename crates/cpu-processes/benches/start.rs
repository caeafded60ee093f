//! What starting a worker costs, start to join: a thread (`thread::spawn` + `join`), a forked
//! child (`fork` + `_exit` + `waitpid`), and a re-executed program (`Command::status` of
//! `/bin/true`, and of this lesson's own `--worker` mode, which adds Rust's runtime start
//! and clap's parsing). These are the fixed costs the `cpu-processes` variants pay per worker
//! before any work is done.
//!
//! Run: `cargo bench -p cpu-processes --bench start`. divan runs each benchmark on the main
//! thread, and every thread the thread benchmark starts is joined before it returns, so `fork`
//! runs in a single-threaded process here (and its child only calls `_exit` anyway).

// `fork` is unsafe, and what this benchmark times.
#![allow(unsafe_code)]

use std::process::{Command, Stdio};
use std::thread;

use nix::sys::wait::waitpid;
use nix::unistd::ForkResult;

fn main() {
    divan::main();
}

/// A thread that returns at once, joined.
#[divan::bench(sample_count = 200)]
fn thread_spawn_join() -> u64 {
    // A join error means the thread panicked, which `|| 1` cannot: unwrap states that.
    thread::spawn(|| divan::black_box(1_u64))
        .join()
        .expect("an empty thread cannot panic")
}

/// A forked child that `_exit`s at once, reaped with `waitpid`.
#[divan::bench(sample_count = 200)]
fn fork_waitpid() {
    // SAFETY: the child calls only `_exit`, which is async-signal-safe, so no lock or state it
    // copied from the parent is ever used.
    // A failed fork would make every figure meaningless: stop the benchmark loudly.
    match unsafe { nix::unistd::fork() }.expect("fork") {
        // SAFETY: `_exit` ends the child at once, running nothing copied from the parent.
        ForkResult::Child => unsafe { libc::_exit(0) },
        ForkResult::Parent { child } => {
            // No handler runs in this process, so no signal interrupts the wait.
            waitpid(child, None).expect("waitpid");
        }
    }
}

/// `/bin/true` started and waited for: fork/exec (or `posix_spawn`) plus the smallest program.
#[divan::bench(sample_count = 100)]
fn spawn_bin_true() {
    let status = Command::new("/bin/true").status().expect("/bin/true runs");
    assert!(status.success());
}

/// This lesson's binary re-executed as `--worker --n 1`: what the `spawn` variant pays per
/// worker.
#[divan::bench(sample_count = 100)]
fn spawn_worker() {
    let output = Command::new(env!("CARGO_BIN_EXE_cpu-processes"))
        .args(["--worker", "--n", "1"])
        .stderr(Stdio::inherit())
        .output()
        .expect("the worker starts");
    // The sum of 0..1, then the worker's peak memory.
    assert!(output.status.success() && output.stdout.starts_with(b"0 "));
}
