//! `threads-basic --variant idle-threads` end to end: every thread counted alive at once, the
//! memory read, the machine's limits refused before starting, a refused spawn midway.

use std::time::Duration;

use serde_json::Value;

use super::LESSON;
use crate::support::{assert_usage_error, bin_path, run_json, u64_of};

/// Checks an idle-threads row of `threads` threads: every one counted alive at once, and the
/// memory fields present and in order.
pub(super) fn assert_idle_row(r: &Value, threads: u64) {
    for key in ["items", "expected", "result"] {
        assert_eq!(u64_of(r, key), threads, "{key}: {r}");
    }
    assert_eq!(r["correct"], true, "{r}");
    assert!(
        u64_of(r, "peak_rss_kib") >= u64_of(r, "base_rss_kib"),
        "{r}"
    );
    assert!(u64_of(r, "alive_rss_kib") > 0, "{r}");
    // Every thread's stack is reserved address space, resident or not.
    assert!(
        u64_of(r, "alive_size_kib") > u64_of(r, "base_size_kib"),
        "{r}"
    );
    let note = r["note"].as_str().unwrap_or_default();
    assert!(note.contains("idle threads: "), "{r}");
}

#[test]
fn idle_threads_are_all_alive_at_once_and_their_memory_is_read() {
    for threads in [1, 2_000] {
        let n = threads.to_string();
        let rows = run_json(LESSON, &["--variant", "idle-threads", "--threads", &n]);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_idle_row(&rows[0], threads);
        assert_eq!(u64_of(&rows[0], "workers"), threads, "{}", rows[0]);
    }
}

#[test]
fn more_idle_threads_than_pid_max_is_one_line_and_exit_2() {
    let pid_max = std::fs::read_to_string("/proc/sys/kernel/pid_max").expect("Linux");
    let above = (pid_max.trim().parse::<u64>().expect("a number") + 1).to_string();
    let stderr = assert_usage_error(LESSON, &["--variant", "idle-threads", "--threads", &above]);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--threads"), "{stderr}");
}

#[test]
fn more_idle_threads_than_memory_mappings_allow_is_one_line_and_exit_2() {
    // Each Rust thread maps four regions (its stack and signal stack, each with a guard page);
    // past vm.max_map_count std aborts the process from inside a new thread, so a count that
    // allows two a thread but not four must be refused before any thread starts.
    let read = |path: &str| -> u64 {
        let text = std::fs::read_to_string(path).expect("Linux");
        text.trim().parse().expect("a number")
    };
    let two_each = read("/proc/sys/vm/max_map_count") / 2 - 1;
    let tasks = read("/proc/sys/kernel/pid_max").min(read("/proc/sys/kernel/threads-max"));
    if two_each >= tasks {
        eprintln!("skipped: vm.max_map_count is not the tightest limit here");
        return;
    }
    let n = two_each.to_string();
    let stderr = assert_usage_error(LESSON, &["--variant", "idle-threads", "--threads", &n]);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("vm.max_map_count"), "{stderr}");
}

#[test]
fn the_twin_refuses_more_idle_threads_than_pid_max_the_same_way() {
    let pid_max = std::fs::read_to_string("/proc/sys/kernel/pid_max").expect("Linux");
    let above = (pid_max.trim().parse::<u64>().expect("a number") + 1).to_string();
    let twin = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/python/threads_basic.py"
    );
    let output = std::process::Command::new("python3")
        .args([twin, "--variant", "idle-threads", "--threads", &above])
        .output()
        .expect("python3 starts");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: --threads"), "{stderr}");
}

/// A process killed and reaped when dropped, also when an assertion fails first.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_spawn_refused_midway_releases_the_started_threads_and_exits_1() {
    // The per-user limit on tasks (`ulimit -u`) refuses the spawn. It binds only users other
    // than root, so both processes run as an otherwise unused uid; the `sleep` holds one of the
    // user's slots, so the limit is reached before --threads, after the check made at start.
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux");
    if !status.lines().any(|l| l.starts_with("Uid:\t0\t")) {
        eprintln!("skipped: needs root, to run as a uid with no other processes");
        return;
    }
    let as_user = ["--reuid=64123", "--regid=64123", "--clear-groups"];
    let holder = std::process::Command::new("setpriv")
        .args(as_user)
        .args(["sleep", "120"])
        .spawn()
        .expect("setpriv runs");
    let _holder = KillOnDrop(holder);
    // setpriv and prlimit exec what they run, so the timeout kills the binary itself.
    let output = assert_cmd::Command::new("setpriv")
        .args(as_user)
        .args(["prlimit", "--nproc=100", "--"])
        .arg(bin_path(LESSON))
        .args(["--variant", "idle-threads", "--threads", "99"])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("setpriv runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: could not start thread idle-"),
        "{stderr}"
    );
    // The OS error once, not repeated by the message and again as its source.
    assert_eq!(stderr.matches("os error").count(), 1, "{stderr}");
}
