//! `race-lock` end to end: every variant through the binary, bad input, and the Python twin.

use std::process::Command;

use serde_json::Value;

use crate::support::{
    assert_usage_errors, bin, row, run_json, run_python_twin, u64_of, variant_names,
};

const LESSON: &str = "race-lock";
/// Small sizes: the suite runs in a debug build on two cores.
const SMALL: &[&str] = &[
    "--workers",
    "4",
    "--increments",
    "2000",
    "--tasks",
    "5",
    "--items",
    "3000",
];

#[test]
fn every_variant_but_racy_is_correct() {
    let rows = run_json(LESSON, SMALL);
    let variants: Vec<&str> = variant_names(&rows);
    assert_eq!(
        variants,
        ["racy", "mutex", "atomic", "rwlock", "semaphore", "condvar"]
    );
    for r in &rows {
        assert_eq!(r["lesson"], LESSON);
        assert_eq!(r["mechanism"], "threads", "{r}");
        if r["variant"] == "racy" {
            assert_eq!(r["expected_failure"], true, "{r}");
            assert!(u64_of(r, "result") <= u64_of(r, "expected"), "{r}");
        } else {
            assert_eq!(r["correct"], true, "{r}");
            assert!(r.get("expected_failure").is_none(), "{r}");
        }
    }
    // 4 threads x 2 000 increments; the rwlock's writes are 1 in 10 of its 2 000 operations.
    assert_eq!(u64_of(row(&rows, "mutex"), "result"), 8_000);
    assert_eq!(u64_of(row(&rows, "atomic"), "result"), 8_000);
    assert_eq!(u64_of(row(&rows, "rwlock"), "result"), 4 * 200);
    assert_eq!(u64_of(row(&rows, "semaphore"), "result"), 4 * 5);
    assert_eq!(u64_of(row(&rows, "condvar"), "result"), 3_000);
    for locked in ["mutex", "rwlock", "semaphore", "condvar"] {
        assert!(row(&rows, locked).get("p99_ns").is_some(), "{locked}");
    }
}

#[test]
fn racy_loses_updates() {
    // Losing is likely on every run with these sizes, not certain: a few tries make the test
    // fail only if the counter never loses anything.
    let lost = (0..5)
        .map(|_| {
            let rows = run_json(LESSON, &["--variant", "racy", "--increments", "100000"]);
            let racy = row(&rows, "racy");
            assert_eq!(
                u64_of(racy, "lost"),
                u64_of(racy, "expected") - u64_of(racy, "result")
            );
            u64_of(racy, "lost")
        })
        .find(|&lost| lost > 0);
    assert!(lost.is_some(), "racy lost nothing in five runs");
}

#[test]
fn a_chosen_variant_runs_alone() {
    let rows = run_json(LESSON, &["--variant", "mutex", "--increments", "100"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["variant"], "mutex");
    assert_eq!(
        rows[0]["workers"], 10,
        "the tutorial's ten threads by default"
    );
    let rows = run_json(
        LESSON,
        &[
            "--variant",
            "condvar",
            "--variant",
            "atomic",
            "--items",
            "10",
            "--increments",
            "10",
        ],
    );
    let variants: Vec<&Value> = rows.iter().map(|r| &r["variant"]).collect();
    assert_eq!(variants, ["atomic", "condvar"]);
}

#[test]
fn the_semaphore_never_admits_more_than_its_permits() {
    for permits in ["1", "2"] {
        let rows = run_json(
            LESSON,
            &[
                "--variant",
                "semaphore",
                "--workers",
                "5",
                "--tasks",
                "10",
                "--permits",
                permits,
            ],
        );
        let s = row(&rows, "semaphore");
        assert_eq!(s["correct"], true, "{s}");
        assert!(
            u64_of(s, "max_in_flight") <= permits.parse().unwrap(),
            "{s}"
        );
    }
}

#[test]
fn the_condvar_buffer_works_with_one_slot_and_one_worker() {
    let rows = run_json(
        LESSON,
        &[
            "--variant",
            "condvar",
            "--workers",
            "1",
            "--capacity",
            "1",
            "--items",
            "500",
        ],
    );
    let c = row(&rows, "condvar");
    assert_eq!(c["correct"], true, "{c}");
    assert_eq!(c["sum"], 124_750); // 0 + 1 + ... + 499
}

#[test]
fn the_table_shows_the_loss_and_the_verdict() {
    let output = bin(LESSON)
        .args([
            "--variant",
            "racy",
            "--variant",
            "mutex",
            "--increments",
            "20000",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let table = String::from_utf8(output.stdout).unwrap();
    // Losing is likely, not certain, on a busy machine: the verdict must match the row either way.
    let lost_nothing = table
        .lines()
        .any(|l| l.starts_with("racy ") && l.trim_end().ends_with(" lost 0"));
    if lost_nothing {
        assert!(table.contains("racy lost no update this run"), "{table}");
    } else {
        assert!(table.contains("of 200 000 updates ("), "{table}");
    }
    assert!(table.contains("mutex exact"), "{table}");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    assert_usage_errors(
        LESSON,
        &[
            &["--workers", "0"],
            &["--workers", "abc"],
            &["--increments", "0"],
            &["--increments", "99999999999"],
            &["--permits", "0"],
            &["--tasks", "0"],
            &["--items", "0"],
            &["--capacity", "0"],
            &["--capacity", "-3"],
            &["--variant", "spinlock"],
        ],
    );
}

#[test]
fn a_run_past_ten_minutes_is_refused_with_its_length() {
    let output = bin(LESSON)
        .args([
            "--variant",
            "semaphore",
            "--tasks",
            "100000",
            "--workers",
            "1024",
            "--permits",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("would take about") && stderr.contains(" h "),
        "{stderr}"
    );
}

#[test]
fn the_table_says_what_its_latency_columns_measure() {
    let output = bin(LESSON)
        .args(["--variant", "mutex", "--increments", "100"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("p50/p99/max: the wait to take a lock"),
        "{table}"
    );
}

#[test]
fn the_python_twin_runs_and_pairs_its_rows() {
    let rows = run_python_twin("race_lock.py", &["--workers", "4", "--increments", "2000"]);
    let pairs: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["variant"].as_str().unwrap(),
                r["pairs_with"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("plus-equals", "racy"),
            ("add-one-call", "racy"),
            ("lock", "mutex")
        ]
    );
    for r in &rows {
        assert_eq!(r["lesson"], LESSON);
        assert_eq!(r["mechanism"], "threads", "{r}");
        assert_eq!(u64_of(r, "expected"), 8_000);
        assert!(u64_of(r, "result") <= 8_000, "{r}");
    }
    assert_eq!(row(&rows, "lock")["correct"], true);
    assert!(row(&rows, "lock").get("p50_ns").is_some());

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/python/race_lock.py");
    let bad = Command::new("python3")
        .args([script, "--increments", "0"])
        .output()
        .expect("python3 is installed");
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&bad.stderr).lines().count(), 1);
}
