//! Worker processes that die or misbehave: one killed mid-task, one that sends replies the
//! parent cannot trust, and Ctrl-C; each run must end with every task counted once and no
//! process left behind.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{LESSON, SMALL, TAG_VAR, assert_none_left, tagged_pids, unique_tag};
use crate::support::{bin, bin_path, json_rows, u64_of};

#[test]
fn a_killed_worker_process_fails_its_task_only() {
    // Task 3 dies mid-run; task 7 is the last, so its worker is replaced during shutdown.
    for victim in [3u64, 7] {
        let tag = unique_tag(&format!("kill{victim}"));
        let output = bin(LESSON)
            .env(TAG_VAR, &tag)
            .arg("--json")
            .args(SMALL)
            .args(["--variant", "processes-as-completed"])
            .args(["--kill-worker-during", &victim.to_string()])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let rows = json_rows(&output);
        let r = &rows[0];
        assert_eq!(r["correct"], true, "{r}");
        let counts = (u64_of(r, "failed"), u64_of(r, "finished"));
        assert_eq!(counts, (1, 8 + 300 - 1), "{r}");
        assert_eq!(r["errors"][0]["id"], victim, "{r}");
        let error = r["errors"][0]["error"].as_str().unwrap();
        assert!(error.contains("SIGKILL"), "{r}");
        assert_eq!(u64_of(r, "workers_replaced"), 1, "{r}");
        assert_none_left(&tag);
    }
}

#[test]
fn the_table_names_the_killed_task_and_the_replaced_worker() {
    let tag = unique_tag("kill-table");
    let output = bin(LESSON)
        .env(TAG_VAR, &tag)
        .args(SMALL)
        .args([
            "--variant",
            "processes-as-completed",
            "--kill-worker-during",
            "0",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let table = String::from_utf8_lossy(&output.stdout);
    // The row's note and the verdict both: task 0 came back failed, and never "finished".
    assert_eq!(table.matches("failed: [0]").count(), 2, "{table}");
    let replaced = table.matches("worker processes replaced: 1");
    assert_eq!(replaced.count(), 2, "{table}");
    assert!(!table.contains("finished ["), "{table}");
    assert_none_left(&tag);
}

/// Set in the parent and inherited by its workers: the worker rewrites its reply to one task
/// (`KIND:TASK`), which the parent must treat as a broken worker.
const FAULT_VAR: &str = "EXECUTOR_COMPLETED_WORKER_FAULT";

/// Runs processes-as-completed with worker fault `fault`; the run must end (a hang fails the
/// test at the timeout), with every task counted once and exit status 1.
fn run_with_fault(fault: &str, tasks: &str) -> Value {
    let tag = unique_tag(&format!("fault-{}", fault.replace(':', "-")));
    let output = bin(LESSON)
        .timeout(Duration::from_secs(60))
        .env(TAG_VAR, &tag)
        .env(FAULT_VAR, fault)
        .args(["--json", "--workers", "2", "--tasks", tasks])
        .args(["--variant", "processes-as-completed"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{fault}: {output:?}");
    let r = json_rows(&output).remove(0);
    assert_eq!(r["correct"], false, "{r}");
    assert_eq!(r["ids_unique"], true, "{r}");
    assert_eq!(u64_of(&r, "expected"), u64_of(&r, "result"), "{r}");
    assert_none_left(&tag);
    r
}

#[test]
fn a_worker_that_sends_a_bad_reply_is_killed_and_replaced() {
    for kind in ["not-utf8", "garbled", "stranger"] {
        // Demo task 3 runs alone on its worker (one job in flight), so it alone is lost; the
        // two timed tasks have ids 0 and 1 and meet no fault.
        let r = run_with_fault(&format!("{kind}:3"), "2");
        assert_eq!(
            (u64_of(&r, "failed"), u64_of(&r, "finished")),
            (1, 9),
            "{r}"
        );
        assert_eq!(r["errors"][0]["id"], 3, "{r}");
        let error = r["errors"][0]["error"].as_str().unwrap();
        assert!(error.contains("so it was killed"), "{r}");
        assert_eq!(u64_of(&r, "workers_replaced"), 1, "{r}");
    }
    // With many jobs in flight per worker, every one the broken worker held is lost with it:
    // demo task 3 and timed task 3 (id 11 in the row) at least.
    let r = run_with_fault("garbled:3", "300");
    let failed: Vec<u64> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert!(failed.contains(&3) && failed.contains(&11), "{r}");
    assert_eq!(u64_of(&r, "failed") + u64_of(&r, "finished"), 308, "{r}");
    assert!(u64_of(&r, "workers_replaced") >= 1, "{r}");
}

#[test]
fn ctrl_c_leaves_no_worker_behind() {
    let tag = unique_tag("sigint");
    let mut child = Command::new(bin_path(LESSON))
        .env(TAG_VAR, &tag)
        .args(["--workers", "2", "--variant", "processes-as-completed"])
        .args(["--tasks", "2000000", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the workers run (the parent plus two), then interrupt the parent alone.
    let deadline = Instant::now() + Duration::from_secs(30);
    while tagged_pids(&tag).len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(tagged_pids(&tag).len() >= 3, "workers never appeared");
    let status = crate::support::interrupt_and_wait(&mut child, "executor-completed");
    assert_eq!(status.code(), Some(130), "{status}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("interrupted: "), "{stderr}");
    assert_none_left(&tag);
}
