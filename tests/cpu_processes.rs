//! End-to-end tests of `cpu-processes`: every variant exact, bad input, long runs refused,
//! memory measured right under a large parent, and the Python twin; child failures in
//! [`faults`], signals in [`signals`], the copyable example in [`example`].
//!
//! Forking happens only in the binary, never in this (multithreaded) test process.

mod example;
mod faults;
mod signals;

use std::process::Command;

use crate::support::{
    assert_usage_error, assert_usage_errors, bin_path, json_rows, row, run_json, run_python_twin,
    u64_of, variant_names,
};

pub(super) const LESSON: &str = "cpu-processes";

/// What does the work in each variant, as every row must say.
const MECHANISMS: [(&str, &str); 4] = [
    ("sequential", "sequential"),
    ("threads", "threads"),
    ("fork", "processes"),
    ("spawn", "processes"),
];

/// The closed form of `workers` sums of `0..n`, written out again here, independent of the crate.
pub(super) fn closed_form(n: u64, workers: u64) -> u64 {
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
    // A negative size reaches the range check instead of being read as an unknown flag.
    for args in [
        ["--n", "-1"],
        ["--rounds", "-1"],
        ["--workers", "-1"],
        ["--n", "-5"],
    ] {
        let stderr = assert_usage_error(LESSON, &args);
        assert!(
            stderr.contains("must be a whole number from 1 to"),
            "{args:?}: {stderr}"
        );
    }
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
