//! Conventions every lesson binary shares, checked across all of them at once.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, ExitStatus, Stdio};

use crate::support::bin_path;

/// Every lesson binary, with one of its size flags.
const SIZE_FLAGS: [(&str, &str); 8] = [
    ("threads-basic", "--numbers"),
    ("race-lock", "--increments"),
    ("cpu-processes", "--n"),
    ("queue-ipc", "--messages"),
    ("pool-batch", "--items"),
    ("executor-completed", "--tasks"),
    ("async-mixed", "--work"),
    ("task-queue", "--jobs"),
];

#[test]
fn a_negative_size_is_out_of_range_in_every_binary() {
    // clap takes "-1" for a flag unless the command allows negative numbers; then the size's own
    // parser answers, as it does for 0 or a size too large. Every binary is checked before the
    // test fails, so the message lists all that do not.
    let mut wrong = Vec::new();
    for (name, flag) in SIZE_FLAGS {
        let output = crate::support::bin(name)
            .args([flag, "-1"])
            .output()
            .expect("the binary starts");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or("");
        if output.status.code() != Some(2) || !first.contains("must be a whole number") {
            wrong.push(format!("{name} {flag} -1: {} {first:?}", output.status));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// Starts `name args...` (a run long enough to be announced on stderr), waits for that
/// announcement, sends SIGINT and returns the exit status and the rest of stderr.
fn interrupt(name: &str, args: &[&str]) -> (ExitStatus, String) {
    let mut child = Command::new(bin_path(name))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
    // The announcement comes after the Ctrl-C handler is installed, so the signal meets it: the
    // order is forced, not timed.
    let mut announced = String::new();
    stderr.read_line(&mut announced).expect("stderr reads");
    assert!(announced.contains("about"), "{name}: {announced:?}");
    let status = crate::support::interrupt_and_wait(&mut child, name);
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("stderr reads");
    (status, rest)
}

#[test]
fn ctrl_c_exits_130_in_the_lessons_without_children() {
    // Runs that wait rather than compute, so they last about as long in debug and release.
    for (name, args) in [
        (
            "async-mixed",
            &["--variant", "io-gather", "--delay-ms", "10000"][..],
        ),
        (
            "race-lock",
            &[
                "--variant",
                "semaphore",
                "--tasks",
                "10000",
                "--permits",
                "1",
            ],
        ),
    ] {
        let (status, stderr) = interrupt(name, args);
        assert_eq!(status.code(), Some(130), "{name}: {status} {stderr}");
        assert!(stderr.contains("interrupted"), "{name}: {stderr}");
    }
}
