//! Failed children: reported by pid and cause, a panicking forked child ending alone, and a
//! child failing in one round marking that round.

use std::path::Path;

use serde_json::Value;

use super::{LESSON, closed_form};
use crate::support::{bin, json_rows};

/// The variable that makes a child fail on purpose (the crate's `fault` module).
const CRASH: &str = "CPU_PROCESSES_CRASH_CHILD";

/// The pids named in `child 1234 ...` messages.
fn pids_in(text: &str) -> Vec<u32> {
    text.split("child ")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

/// Whether `pid` exists (running or a zombie).
pub(super) fn exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn failed_child_is_reported(crash: &str, cause: &str) {
    let output = bin(LESSON)
        .args(["--json", "--n", "100000", "--workers", "2", "--rounds", "1"])
        .env("CPU_PROCESSES_CRASH_CHILD", crash)
        .args(["--variant", "fork", "--variant", "spawn"])
        .output()
        .expect("the binary starts");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for r in json_rows(&output) {
        assert_eq!(r["correct"], false, "{r}");
        // The other child's sum arrived: exactly one task is missing.
        assert_eq!(r["result"], closed_form(100_000, 1), "{r}");
        let failed = r["failed_children"].as_array().expect("a list").clone();
        assert_eq!(failed.len(), 1, "{r}");
        let message = failed[0].as_str().expect("a message");
        assert!(message.contains(cause), "{message}");
        let pids = pids_in(message);
        assert_eq!(pids.len(), 1, "{message}");
        assert!(stderr.contains(message), "{stderr}");
        assert!(!exists(pids[0]), "child {} left behind", pids[0]);
    }
}

#[test]
fn a_child_exiting_non_zero_is_reported_by_pid() {
    failed_child_is_reported("exit", "exited with status 3");
}

#[test]
fn a_child_killed_by_a_signal_is_reported_by_pid() {
    failed_child_is_reported("kill", "killed by SIGKILL");
}

/// The JSON rows and stderr of a failing run of `variant` with `env` set, requiring exit 1.
fn failing_run(variant: &str, args: &[&str], env: &[(&str, &str)]) -> (Vec<Value>, String) {
    let output = bin(LESSON)
        .args(["--json", "--workers", "2", "--variant", variant])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("the binary starts");
    assert_eq!(output.status.code(), Some(1), "{variant}: {output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    (json_rows(&output), stderr)
}

#[test]
fn a_panicking_forked_child_ends_alone() {
    // Task 1 panics; task 0's child is still summing (a size that takes a while in a debug
    // build). Were the panic to unwind through the parent's copied frames, it would SIGKILL
    // that sibling on its way out, and both tasks would be lost.
    let n = 40_000_000;
    let args = ["--n", &n.to_string(), "--rounds", "1"].map(String::from);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for variant in ["fork", "spawn"] {
        let (rows, stderr) = failing_run(variant, &args, &[(CRASH, "panic")]);
        let r = &rows[0];
        assert_eq!(r["correct"], false, "{r}");
        assert_eq!(
            r["result"],
            closed_form(n, 1),
            "{variant}: the sibling's sum: {r}"
        );
        let failed = r["failed_children"].as_array().expect("a list");
        assert_eq!(failed.len(), 1, "{variant}: only the panicking child: {r}");
        let message = failed[0].as_str().expect("a message");
        assert!(message.contains("exited with status 101"), "{message}");
        assert!(
            stderr.contains("CPU_PROCESSES_CRASH_CHILD=panic"),
            "{stderr}"
        );
        assert!(
            !exists(pids_in(message)[0]),
            "{variant}: {message} left behind"
        );
    }
}

#[test]
fn a_child_killed_in_one_round_marks_that_round() {
    for variant in ["fork", "spawn"] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let nth = format!("2:{}", dir.path().join("tally").display());
        let env = [(CRASH, "kill"), ("CPU_PROCESSES_CRASH_NTH", nth.as_str())];
        let args = ["--n", "100000", "--rounds", "3"];
        let (rows, stderr) = failing_run(variant, &args, &env);
        let r = &rows[0];
        assert_eq!(r["correct"], false, "{r}");
        // The wrong round's own total, whichever round the timings come from.
        assert_eq!(r["result"], closed_form(100_000, 1), "{variant}: {r}");
        assert_eq!(r["wrong_rounds"], serde_json::json!([2]), "{r}");
        let failed = r["failed_children"].as_array().expect("a list");
        assert_eq!(failed.len(), 1, "{r}");
        let message = failed[0].as_str().expect("a message");
        assert!(message.starts_with("round 2: child "), "{message}");
        assert!(message.contains("killed by SIGKILL"), "{message}");
        assert!(stderr.contains(message), "{stderr}");
        let note = r["note"].as_str().expect("a note");
        assert!(note.contains("WRONG in round 2 of 3"), "{note}");
    }
}
