//! `executor-completed` end to end: every variant's accounting through the binary, bad input,
//! and the Python twin; worker processes killed, broken or interrupted in [`workers`].

mod workers;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{
    assert_usage_error, assert_usage_errors, bin, json_rows, row, run_json, run_python_twin, u64_of,
};

pub(super) const LESSON: &str = "executor-completed";
const VARIANTS: [&str; 6] = [
    "threads-as-completed",
    "processes-as-completed",
    "errors",
    "timeout",
    "cancel",
    "priority",
];
/// Small sizes: the suite runs in a debug build on two cores.
pub(super) const SMALL: &[&str] = &["--workers", "2", "--tasks", "300"];
/// The mechanism of each Rust variant: only processes-as-completed runs on worker processes.
fn mechanism_of(variant: &str) -> &'static str {
    if variant == "processes-as-completed" {
        "processes"
    } else {
        "threads"
    }
}
/// Set in a test's child and inherited by its worker processes, so a test finds its own.
pub(super) const TAG_VAR: &str = "EXECUTOR_COMPLETED_TEST_TAG";

/// Pids of live processes whose environment carries `TAG_VAR=tag`.
pub(super) fn tagged_pids(tag: &str) -> Vec<u32> {
    let needle = format!("{TAG_VAR}={tag}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|&b| b == 0).any(|var| var == needle.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

/// Waits up to a few seconds for every tagged process to be gone.
pub(super) fn assert_none_left(tag: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !tagged_pids(tag).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(tagged_pids(tag), Vec::<u32>::new(), "processes left behind");
}

/// Field `key` of every row, as text.
fn strings<'a>(rows: &'a [Value], key: &str) -> Vec<&'a str> {
    rows.iter()
        .map(|r| r[key].as_str().unwrap_or_else(|| panic!("{key} in {r}")))
        .collect()
}

pub(super) fn unique_tag(name: &str) -> String {
    format!("{name}-{}", std::process::id())
}

#[test]
fn every_variant_accounts_for_every_task() {
    let tag = unique_tag("all");
    let output = bin(LESSON)
        .env(TAG_VAR, &tag)
        .arg("--json")
        .args(SMALL)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let rows = json_rows(&output);
    let variants = strings(&rows, "variant");
    assert_eq!(variants, VARIANTS);
    for r in &rows {
        assert_eq!(r["lesson"], LESSON);
        assert_eq!(r["correct"], true, "{r}");
        assert_eq!(r["ids_unique"], true, "{r}");
        let variant = r["variant"].as_str().unwrap();
        assert_eq!(r["mechanism"], mechanism_of(variant), "{r}");
        let sum: u64 = ["finished", "failed", "timed_out", "cancelled"]
            .iter()
            .map(|k| u64_of(r, k))
            .sum();
        assert_eq!(u64_of(r, "result"), sum, "{r}");
        assert_eq!(u64_of(r, "expected"), sum, "{r}");
    }
    for name in ["threads-as-completed", "processes-as-completed"] {
        let r = row(&rows, name);
        // 8 uneven demo tasks, then --tasks trivial ones, all finished.
        assert_eq!(u64_of(r, "expected"), 8 + 300, "{r}");
        assert_eq!(u64_of(r, "finished"), 8 + 300, "{r}");
        assert_eq!(u64_of(r, "items"), 300, "{r}");
        let mut order: Vec<u64> = serde_json::from_value(r["completion_order"].clone()).unwrap();
        order.sort_unstable();
        assert_eq!(order, (0..8).collect::<Vec<u64>>(), "{r}");
    }
    let errors = row(&rows, "errors");
    assert_eq!(
        (u64_of(errors, "failed"), u64_of(errors, "finished")),
        (2, 6)
    );
    let failed: Vec<u64> = errors["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert_eq!(failed, [2, 5]);
    assert!(
        errors["errors"][1]["error"]
            .as_str()
            .unwrap()
            .contains("panicked")
    );
    // Two workers: 2 x 2 fast tasks finish, the 2 slow ones (ids 4, 5) time out.
    let timeout = row(&rows, "timeout");
    assert_eq!(u64_of(timeout, "timed_out"), 2);
    assert_eq!(timeout["timed_out_ids"], json!([4, 5]));
    let cancel = row(&rows, "cancel");
    assert_eq!(
        (u64_of(cancel, "cancelled"), u64_of(cancel, "finished")),
        (6, 2)
    );
    // Ids 2..10 were queued at levels 0, 2, 1, 0, 2, 1, 0, 2: high ones first, then normal, low.
    let priority = row(&rows, "priority");
    assert_eq!(priority["start_order"], json!([3, 6, 9, 4, 7, 2, 5, 8]));
    assert_none_left(&tag);
}

#[test]
fn uneven_tasks_finish_out_of_submission_order() {
    let args = ["--workers", "4", "--tasks", "10"];
    let rows = run_json(
        LESSON,
        &[&args[..], &["--variant", "threads-as-completed"]].concat(),
    );
    // Task 0 is the longest and waits until another task has come back: never first.
    let order = rows[0]["completion_order"].as_array().unwrap();
    assert_eq!(order.len(), 8, "{order:?}");
    assert_ne!(order[0], 0, "{order:?}");
}

#[test]
fn only_the_chosen_variants_run() {
    let rows = run_json(LESSON, &[SMALL, &["--variant", "cancel"]].concat());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["variant"], "cancel");
    let both = ["--variant", "priority", "--variant", "errors"];
    let rows = run_json(LESSON, &[SMALL, &both[..]].concat());
    let variants = strings(&rows, "variant");
    assert_eq!(variants, ["errors", "priority"]);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    assert_usage_errors(
        LESSON,
        &[
            &["--workers", "0"],
            &["--workers", "abc"],
            &["--tasks", "0"],
            &["--tasks", "-1"],
            &["--tasks", "99999999999"],
            &["--kill-worker-during", "8"],
            &["--variant", "as-completed"],
            // The worker process is started through an environment variable, so no word on
            // the command line is taken for it.
            &["worker"],
        ],
    );
}

#[test]
fn negative_sizes_say_what_a_size_must_be() {
    for args in [
        &["--tasks", "-1"][..],
        &["--tasks", "-300"],
        &["--kill-worker-during", "-1"],
        &["--workers", "-2"],
    ] {
        let stderr = assert_usage_error(LESSON, args);
        assert!(
            stderr.contains("must be a whole number from"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn python_twin_runs_and_pairs_with_rust_variants() {
    let args = ["--workers", "2", "--tasks", "200"];
    let rows = run_python_twin("executor_completed.py", &args);
    let pairs = strings(&rows, "pairs_with");
    assert_eq!(pairs, VARIANTS);
    for r in &rows {
        assert_eq!(r["lesson"], LESSON);
        assert_eq!(r["correct"], true, "{r}");
        assert_eq!(u64_of(r, "expected"), u64_of(r, "result"), "{r}");
        assert!(r["completion_order"].is_array(), "{r}");
    }
    // The twin forces its timeout the same way: the slow tasks, and only they, time out.
    assert_eq!(row(&rows, "timeout")["timed_out_ids"], json!([4, 5]));
    // Like for like: each twin row does the same work, on the same mechanism, as the Rust row
    // it pairs with at the same flags.
    let rust = run_json(LESSON, &args);
    for py in &rows {
        let rs = row(&rust, py["pairs_with"].as_str().unwrap());
        assert_eq!(py["mechanism"], rs["mechanism"], "{py}\n{rs}");
        assert_eq!(u64_of(py, "items"), u64_of(rs, "items"), "{py}\n{rs}");
        assert_eq!(u64_of(py, "expected"), u64_of(rs, "expected"), "{py}\n{rs}");
    }
    let py_priority = row(&rows, "priority-heap");
    assert_eq!(
        py_priority["start_order"],
        row(&rust, "priority")["start_order"]
    );
}
