//! `pool-batch` end to end: every variant and task through the binary, an injected panic, a
//! worker process killing itself mid-task, Ctrl-C, bad input, a run too long to start, and the
//! Python twin paired like for like.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{
    assert_usage_error, assert_usage_errors, bin_path, json_rows, row, run_json, run_python_twin,
    variant_names,
};

const LESSON: &str = "pool-batch";
const VARIANTS: [&str; 9] = [
    "thread-pool",
    "thread-pool-chunked",
    "thread-pool-tuned",
    "process-pool",
    "batch-new-pool-each",
    "batch-one-pool",
    "process-batch-new-pool-each",
    "process-batch-one-pool",
    "rayon",
];
/// The variants that run on worker processes; every other runs on threads.
const PROCESS_VARIANTS: [&str; 3] = [
    "process-pool",
    "process-batch-new-pool-each",
    "process-batch-one-pool",
];
/// Small sizes: the suite runs in a debug build on two cores. 20 batches of 4 are items 1..=80.
const SMALL: &[&str] = &[
    "--workers",
    "2",
    "--items",
    "3000",
    "--chunk",
    "64",
    "--batches",
    "20",
];

/// Runs the binary with `--json` and `args`, returns its pid and its rows (exit status 0).
fn run_with_pid(args: &[&str]) -> (u32, Vec<Value>) {
    let child = Command::new(bin_path(LESSON))
        .arg("--json")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let pid = child.id();
    let output = child.wait_with_output().expect("the binary runs");
    assert!(output.status.success(), "{args:?}: {output:?}");
    (pid, json_rows(&output))
}

/// Pids of live processes started as workers of the run whose pid is `parent` (the workers
/// carry `--parent <pid>` on their command line for exactly this).
fn workers_of(parent: u32) -> Vec<u32> {
    let marker = format!("--parent\0{parent}\0");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc")
        .expect("/proc is readable")
        .flatten()
    {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline"))
            && String::from_utf8_lossy(&cmdline).contains(&marker)
        {
            found.push(pid);
        }
    }
    found
}

#[test]
fn every_variant_is_correct_and_in_order() {
    let (pid, rows) = run_with_pid(SMALL);
    let variants: Vec<&str> = variant_names(&rows);
    assert_eq!(variants, VARIANTS);
    for r in &rows {
        crate::support::assert_design_fields(r);
        assert_eq!(r["lesson"], LESSON);
        assert_eq!(r["correct"], true, "{r}");
        assert_eq!(r["in_order"], true, "{r}");
        assert_eq!(r["failed_items"], json!([]), "{r}");
        assert!(r["overhead_ns"].is_number(), "{r}");
        let processes = PROCESS_VARIANTS.contains(&r["variant"].as_str().unwrap_or(""));
        let mechanism = if processes { "processes" } else { "threads" };
        assert_eq!(r["mechanism"], mechanism, "{r}");
    }
    // 1² + ... + 3000² and 1² + ... + 80², worked out by hand.
    assert_eq!(row(&rows, "rayon")["expected"], 9_004_500_500u64);
    assert_eq!(row(&rows, "batch-one-pool")["expected"], 173_880);
    assert_eq!(row(&rows, "batch-one-pool")["items"], 80);
    assert_eq!(row(&rows, "process-pool")["replaced_workers"], 0);
    for variant in ["process-batch-new-pool-each", "process-batch-one-pool"] {
        let r = row(&rows, variant);
        assert_eq!(r["items"], 80, "{r}");
        assert_eq!(r["expected"], 173_880, "{r}");
        assert_eq!(r["replaced_workers"], 0, "{r}");
    }
    assert!(workers_of(pid).is_empty(), "workers left behind");
}

#[test]
fn one_variant_runs_alone() {
    let rows = run_json(LESSON, &[SMALL, &["--variant", "rayon"]].concat());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["variant"], "rayon");
}

#[test]
fn sqrt_and_work_tasks_are_correct() {
    for task in [&["--task", "sqrt"][..], &["--task", "work", "--work", "50"]] {
        let variants = [
            "--variant",
            "thread-pool-chunked",
            "--variant",
            "process-pool",
        ];
        let rows = run_json(LESSON, &[SMALL, task, &variants].concat());
        assert_eq!(rows.len(), 2);
        for r in &rows {
            assert_eq!(r["correct"], true, "{r}");
            assert_eq!(r["task"], task[1], "{r}");
        }
    }
    // floor(sqrt(k)) summed over 1..=3000: Σ_{j<54} j(2j+1) + 54·(3000 − 54² + 1) = 103 509 + 4 590.
    let rows = run_json(
        LESSON,
        &[SMALL, &["--task", "sqrt", "--variant", "rayon"]].concat(),
    );
    assert_eq!(rows[0]["expected"], 108_099);
}

#[test]
fn a_panicking_task_fails_only_its_item_in_every_variant() {
    let rows = run_json(LESSON, &[SMALL, &["--panic-at", "77"]].concat());
    assert_eq!(rows.len(), VARIANTS.len());
    for r in &rows {
        // Correct means: item 77 and no other failed, and every other result is right.
        assert_eq!(r["correct"], true, "{r}");
        assert_eq!(r["failed_items"], json!([77]), "{r}");
        assert_eq!(r["failed"], 1, "{r}");
    }
    assert_eq!(row(&rows, "batch-one-pool")["expected"], 173_880 - 77 * 77);
}

#[test]
fn a_killed_worker_process_is_replaced_and_only_its_item_fails() {
    let args = [
        SMALL,
        &["--variant", "process-pool", "--kill-worker-at", "100"],
    ]
    .concat();
    let (pid, rows) = run_with_pid(&args);
    let r = &rows[0];
    assert_eq!(r["correct"], true, "{r}");
    assert_eq!(r["failed_items"], json!([100]), "{r}");
    // Killed once in its chunk, and once more when that item was retried alone.
    assert_eq!(r["replaced_workers"], 2, "{r}");
    assert!(r["note"].as_str().unwrap().contains("SIGKILL"), "{r}");
    assert!(workers_of(pid).is_empty(), "workers left behind");
}

#[test]
fn a_killed_worker_in_a_batch_is_replaced_and_only_its_item_fails() {
    let variants = [
        "--variant",
        "process-batch-new-pool-each",
        "--variant",
        "process-batch-one-pool",
    ];
    let args = [SMALL, &variants, &["--kill-worker-at", "7"]].concat();
    let (pid, rows) = run_with_pid(&args);
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r["correct"], true, "{r}");
        assert_eq!(r["failed_items"], json!([7]), "{r}");
        // Killed once with the item, and once more when it was retried on a fresh worker.
        assert_eq!(r["replaced_workers"], 2, "{r}");
    }
    assert!(workers_of(pid).is_empty(), "workers left behind");
}

#[test]
fn ctrl_c_leaves_no_worker_behind() {
    // Tasks of ten million hash rounds: the run lasts far longer than the test waits, and less
    // than the ten minutes past which it would be refused.
    let mut child = Command::new(bin_path(LESSON))
        .args([
            "--variant",
            "process-pool",
            "--workers",
            "2",
            "--items",
            "300",
            "--chunk",
            "1",
        ])
        .args(["--task", "work", "--work", "10000000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let pid = child.id();
    let started = Instant::now();
    while workers_of(pid).len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no workers appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = crate::support::interrupt_and_wait(&mut child, "pool-batch");
    assert_eq!(status.code(), Some(130), "{status}");
    assert!(
        workers_of(pid).is_empty(),
        "workers left behind after Ctrl-C"
    );
}

#[test]
fn bad_input_exits_2_with_one_line() {
    assert_usage_errors(
        LESSON,
        &[
            &["--items", "0"],
            &["--items", "99999999999"],
            &["--chunk", "0"],
            &["--batches", "0"],
            &["--workers", "0"],
            &["--task", "cube"],
            &["--work", "5"],
            &["--task", "work", "--work", "0"],
            &["--variant", "nope"],
            &["--task", "work", "--work", "10000001"],
            // No hidden subcommand catches a stray word.
            &["worker"],
            &["foo"],
        ],
    );
}

#[test]
fn a_negative_size_is_refused_with_its_range() {
    for flag in ["--items", "--chunk", "--batches", "--work", "--workers"] {
        let stderr = assert_usage_error(LESSON, &[flag, "-3"]);
        assert!(stderr.contains(flag), "{flag}: {stderr}");
        assert!(
            stderr.contains("must be a whole number from"),
            "{flag}: {stderr}"
        );
    }
}

#[test]
fn a_run_too_long_is_refused_with_its_length() {
    let args = [
        "--variant",
        "rayon",
        "--items",
        "3000000",
        "--task",
        "work",
        "--work",
        "10000000",
    ];
    let stderr = assert_usage_error(LESSON, &args);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("would take about"), "{stderr}");
    assert!(stderr.contains("--items"), "{stderr}");
}

#[test]
fn python_twin_runs_and_pairs_with_rust_variants() {
    let sizes = [
        "--workers",
        "2",
        "--items",
        "300",
        "--chunk",
        "16",
        "--batches",
        "5",
    ];
    let rows = run_python_twin("pool_batch.py", &sizes);
    assert_eq!(rows.len(), 8, "{rows:?}");
    let rust = run_json(LESSON, &sizes);
    for r in &rows {
        assert_eq!(r["lesson"], LESSON);
        assert_eq!(r["correct"], true, "{r}");
        assert!(
            VARIANTS.contains(&r["pairs_with"].as_str().unwrap_or("")),
            "{r}"
        );
        // Like for like: the same items and the same mechanism as the Rust row it names,
        // unless the row says it is deliberately across mechanisms.
        let paired = row(&rust, r["pairs_with"].as_str().unwrap_or(""));
        assert_eq!(r["items"], paired["items"], "{r}\n{paired}");
        if r["cross_mechanism"] == true {
            assert_ne!(r["mechanism"], paired["mechanism"], "{r}\n{paired}");
        } else {
            assert_eq!(r["mechanism"], paired["mechanism"], "{r}\n{paired}");
        }
    }
    // Every Rust variant but the tuned map has a Python twin.
    let paired: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["pairs_with"].as_str())
        .collect();
    for variant in VARIANTS.iter().filter(|v| **v != "thread-pool-tuned") {
        assert!(
            paired.contains(variant),
            "no Python row pairs with {variant}"
        );
    }
    // 1² + ... + 300² = 9 045 050.
    assert_eq!(row(&rows, "pool-map-chunked")["expected"], 9_045_050);
}
