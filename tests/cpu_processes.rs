//! End-to-end tests of `cpu-processes`: every variant exact, child failures reported by pid and
//! cause, SIGTERM and SIGINT ending and reaping the children, bad input, long runs refused,
//! memory measured right under a large parent, and the Python twin.
//!
//! Forking happens only in the binary, never in this (multithreaded) test process.

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::support::{
    assert_usage_error, assert_usage_errors, bin, bin_path, json_rows, row, run_json,
    run_python_twin, u64_of, variant_names,
};

const LESSON: &str = "cpu-processes";

/// What does the work in each variant, as every row must say.
const MECHANISMS: [(&str, &str); 4] = [
    ("sequential", "sequential"),
    ("threads", "threads"),
    ("fork", "processes"),
    ("spawn", "processes"),
];

/// The closed form of `workers` sums of `0..n`, written out again here, independent of the crate.
fn closed_form(n: u64, workers: u64) -> u64 {
    workers * (n * (n - 1) / 2)
}

#[test]
fn every_variant_is_exact() {
    let rows = run_json(
        LESSON,
        &["--n", "200000", "--workers", "2", "--rounds", "2"],
    );
    let variants: Vec<&str> = variant_names(&rows);
    assert_eq!(variants, ["sequential", "threads", "fork", "spawn"]);
    for r in &rows {
        assert_eq!(r["lesson"], LESSON);
        assert_eq!(r["correct"], true, "{r}");
        assert_eq!(r["expected"], closed_form(200_000, 2), "{r}");
        assert_eq!(r["result"], r["expected"], "{r}");
        assert!(r["speedup"].as_f64().is_some_and(|s| s > 0.0), "{r}");
        assert!(r["efficiency"].as_f64().is_some_and(|e| e > 0.0), "{r}");
        assert!(r["peak_rss_kib"].as_u64().is_some_and(|k| k > 0), "{r}");
        assert!(r["cpus"].as_f64().is_some_and(|c| c >= 0.0), "{r}");
        assert_eq!(r["rounds"], 2, "{r}");
    }
    for (variant, mechanism) in MECHANISMS {
        assert_eq!(row(&rows, variant)["mechanism"], mechanism, "{variant}");
    }
    for variant in ["fork", "spawn"] {
        let r = row(&rows, variant);
        assert_eq!(r["workers"], 2);
        assert!(
            r["child_peak_rss_kib"].as_u64().is_some_and(|k| k > 0),
            "{r}"
        );
        assert_eq!(r["failed_children"], serde_json::json!([]), "{r}");
    }
}

#[test]
fn one_variant_runs_alone() {
    for variant in ["sequential", "threads", "fork", "spawn"] {
        let rows = run_json(
            LESSON,
            &["--n", "1000", "--workers", "3", "--variant", variant],
        );
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["variant"], variant);
        assert_eq!(rows[0]["expected"], closed_form(1000, 3));
        assert_eq!(rows[0]["correct"], true);
    }
}

#[test]
fn bad_input_exits_2() {
    assert_usage_errors(
        LESSON,
        &[
            &["--n", "0"],
            &["--n", "many"],
            &["--n", "99999999999999999999"],
            &["--workers", "0"],
            &["--workers", "100000"],
            &["--rounds", "0"],
            &["--variant", "green-threads"],
        ],
    );
    // 2^32 fits twice in 64 bits but not three times.
    let stderr = assert_usage_error(LESSON, &["--n", "4294967296", "--workers", "3"]);
    assert!(stderr.contains("overflows"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // A range error in words, not clap's `1..18446744073709551615`.
    let stderr = assert_usage_error(LESSON, &["--n", "0"]);
    assert!(
        stderr.contains("must be a whole number from 1 to"),
        "{stderr}"
    );
    // A stray word is an error, not a hidden worker mode.
    let stderr = assert_usage_error(LESSON, &["worker"]);
    assert!(stderr.contains("unexpected argument"), "{stderr}");
}

#[test]
fn an_absurd_run_is_refused_with_how_long_it_would_take() {
    let stderr = assert_usage_error(LESSON, &["--workers", "1024", "--rounds", "100"]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("would take about"), "{stderr}");
    assert!(stderr.contains("pass --n"), "{stderr}");
}

/// Allocates and touches 200 MiB, reports its own peak on stderr, then `exec`s the lesson with
/// the arguments it was given: the kernel carries `getrusage`'s peak across the `exec`.
const BIG_PARENT: &str = r#"
import os, sys
ballast = bytearray(200 << 20)
for i in range(0, len(ballast), 4096):
    ballast[i] = 1
peak = next(l for l in open("/proc/self/status") if l.startswith("VmHWM"))
print("wrapper", peak.split()[1], file=sys.stderr, flush=True)
os.execv(sys.argv[1], sys.argv[1:])
"#;

#[test]
fn memory_is_this_programs_own_under_a_large_parent() {
    let output = Command::new("python3")
        .args(["-c", BIG_PARENT])
        .arg(bin_path(LESSON))
        .args(["--json", "--n", "200000", "--workers", "2", "--rounds", "1"])
        .output()
        .expect("python3 starts");
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let wrapper_kib: u64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("wrapper ")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("the wrapper reported no peak: {stderr}"));
    assert!(
        wrapper_kib > 150 << 10,
        "the wrapper held only {wrapper_kib} KiB"
    );
    let rows = json_rows(&output);
    assert_eq!(rows.len(), 4, "{rows:?}");
    // 50 MiB: far above what this lesson holds, far below the wrapper's 200 MiB.
    for r in &rows {
        let parent = u64_of(r, "peak_rss_kib");
        assert!(parent > 0 && parent < 50 << 10, "parent {parent} KiB: {r}");
        if r["mechanism"] == "processes" {
            let child = u64_of(r, "child_peak_rss_kib");
            assert!(child > 0 && child < 50 << 10, "child {child} KiB: {r}");
        }
    }
}

/// The pids named in `child 1234 ...` messages.
fn pids_in(text: &str) -> Vec<u32> {
    text.split("child ")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

/// Whether `pid` exists (running or a zombie).
fn exists(pid: u32) -> bool {
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

/// The children of `parent`, from `/proc/*/stat` (field 4 is the parent pid).
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // The command name (field 2) is in parentheses and may hold spaces: skip past it.
            let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            after_name.split_whitespace().nth(1) == Some(&parent.to_string())
        })
        .collect()
}

/// Starts a run of `variant` long enough to be interrupted; returns it once its `workers`
/// children are all running, with their pids. One round: seconds optimised, minutes in a debug
/// build, and well inside what the lesson's estimate lets through.
fn start_long_run(variant: &str, workers: usize) -> (std::process::Child, Vec<u32>) {
    let mut parent = Command::new(bin_path(LESSON))
        .args(["--n", "3000000000", "--rounds", "1"])
        .args(["--workers", &workers.to_string()])
        .args(["--variant", variant])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut children = Vec::new();
    while children.len() < workers && Instant::now() < deadline {
        sleep(Duration::from_millis(20));
        children = children_of(parent.id());
        if let Some(status) = parent.try_wait().expect("wait works") {
            let mut stderr = String::new();
            let pipe = parent.stderr.as_mut().expect("piped");
            std::io::Read::read_to_string(pipe, &mut stderr).expect("stderr is text");
            panic!("{variant}: the run ended early ({status}): {stderr}");
        }
    }
    assert_eq!(
        children.len(),
        workers,
        "{variant}: the children never all started"
    );
    (parent, children)
}

fn signal_ends_and_reaps(signal: &str, variant: &str, workers: usize) {
    let (mut parent, children) = start_long_run(variant, workers);
    let status = Command::new("kill")
        .args([signal, &parent.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = parent.try_wait().expect("wait works") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "{variant}: {signal} did not end the run"
        );
        sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130), "{variant} {signal}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut parent.stderr.take().expect("piped"), &mut stderr)
        .expect("stderr is text");
    assert!(
        stderr.contains("every child was ended and reaped"),
        "{stderr}"
    );
    for pid in children {
        assert!(!exists(pid), "{variant}: child {pid} survived its parent");
    }
}

#[test]
fn sigterm_ends_and_reaps_forked_children() {
    signal_ends_and_reaps("-TERM", "fork", 2);
}

#[test]
fn sigterm_ends_and_reaps_spawned_children() {
    signal_ends_and_reaps("-TERM", "spawn", 2);
}

#[test]
fn ctrl_c_ends_and_reaps_forked_children() {
    signal_ends_and_reaps("-INT", "fork", 2);
}

#[test]
fn ctrl_c_ends_and_reaps_spawned_children() {
    signal_ends_and_reaps("-INT", "spawn", 2);
}

/// Whether `pid` has ended: gone, or a zombie (orphans are reaped by whatever is pid 1, which in
/// some containers never does it).
fn ended(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    matches!(state, None | Some("Z" | "X"))
}

fn sigkill_of_the_parent_ends_the_children(variant: &str) {
    let (mut parent, children) = start_long_run(variant, 2);
    parent.kill().expect("SIGKILL is sent");
    parent.wait().expect("the parent is reaped");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !children.iter().all(|&pid| ended(pid)) {
        assert!(
            Instant::now() < deadline,
            "{variant}: children outlived a SIGKILLed parent"
        );
        sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigkill_of_the_parent_ends_forked_children() {
    sigkill_of_the_parent_ends_the_children("fork");
}

#[test]
fn sigkill_of_the_parent_ends_spawned_children() {
    sigkill_of_the_parent_ends_the_children("spawn");
}

#[test]
fn python_twin_rows_are_correct() {
    let rows = run_python_twin("cpu_processes.py", &["--n", "20000", "--workers", "2"]);
    let pairs: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["pairs_with"].as_str())
        .collect();
    assert_eq!(
        pairs,
        ["sequential", "threads", "fork", "spawn"],
        "{rows:?}"
    );
    for r in &rows {
        assert_eq!(r["lesson"], LESSON);
        assert_eq!(r["correct"], true, "{r}");
        assert_eq!(r["expected"], closed_form(20_000, 2), "{r}");
    }
    // Like for like: each twin row has the mechanism and the items of the Rust row it pairs
    // with, given the same sizes.
    let rust = run_json(LESSON, &["--n", "20000", "--workers", "2", "--rounds", "1"]);
    for (variant, mechanism) in MECHANISMS {
        let twin = rows
            .iter()
            .find(|r| r["pairs_with"] == variant)
            .unwrap_or_else(|| panic!("no twin row pairs with {variant}"));
        assert_eq!(twin["mechanism"], mechanism, "{twin}");
        assert_eq!(
            twin["mechanism"],
            row(&rust, variant)["mechanism"],
            "{twin}"
        );
        assert_eq!(twin["items"], row(&rust, variant)["items"], "{twin}");
        assert!(twin.get("cross_mechanism").is_none(), "{twin}");
    }
}
