//! SIGTERM and SIGINT ending and reaping the children (exit 130), and a SIGKILLed parent's
//! children ending with it.

use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::LESSON;
use super::faults::exists;
use crate::support::bin_path;

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
