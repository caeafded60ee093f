//! `async-mixed`: every variant correct, one variant alone, the heartbeat check catching a CPU step
//! run inline, bad input, and the Python twin; the wait variants and `--job-ms` in [`waits`].

use std::process::Command;

mod waits;

use crate::support::{assert_usage_error, assert_usage_errors, json_rows, run_json, variant_names};

const BIN: &str = "async-mixed";
/// Small enough for a debug build on two cores.
const SMALL: &[&str] = &[
    "--requests",
    "30",
    "--delay-ms",
    "5",
    "--tasks",
    "6",
    "--work",
    "20000",
    "--workers",
    "2",
];
const CPU_VARIANTS: [&str; 3] = ["cpu-inline", "cpu-spawn-blocking", "cpu-rayon"];
const OFFLOADED: [&str; 2] = ["cpu-spawn-blocking", "cpu-rayon"];

/// Sizes at which `cpu-inline` holds both workers well past the binary's stall floor, so the
/// offloaded rows are compared with it. No --work: the binary sizes each step from its own pilot
/// sum, so the stall fits this build (a debug sum is some fifty times slower) and this machine.
fn stalling() -> Vec<&'static str> {
    vec!["--delay-ms", "5", "--tasks", "16", "--workers", "2"]
}

#[test]
fn every_variant_is_correct() {
    let rows = run_json(BIN, SMALL);
    let names: Vec<&str> = variant_names(&rows);
    assert_eq!(
        names,
        ["io-gather", "cpu-inline", "cpu-spawn-blocking", "cpu-rayon"]
    );
    for row in &rows {
        assert_eq!(row["lesson"], BIN);
        assert_eq!(row["correct"], true, "{row}");
        assert_eq!(row["workers"], 2);
        assert_eq!(row["mechanism"], "async", "{row}");
    }
    let gather = crate::support::row(&rows, "io-gather");
    assert_eq!(
        (&gather["expected"], &gather["result"]),
        (&30.into(), &30.into())
    );
    for variant in CPU_VARIANTS {
        let row = crate::support::row(&rows, variant);
        assert_eq!(row["result"], 6, "{row}");
        for key in ["p50_ns", "p99_ns", "max_ns", "heartbeat_ticks"] {
            assert!(row[key].as_u64().is_some(), "{key} missing: {row}");
        }
        // The CPU steps ran on the runtime's 2 workers, at most 2 blocking threads at a time
        // (a permit each), or the rayon pool's 2 threads.
        let threads = row["cpu_threads"].as_u64().unwrap();
        assert!(threads >= 1, "{row}");
        if variant != "cpu-spawn-blocking" {
            assert!(threads <= 2, "{row}");
        }
    }
    // Steps this short cannot stall the runtime: the rows say they were not compared.
    for variant in OFFLOADED {
        let row = crate::support::row(&rows, variant);
        assert!(
            row["note"].as_str().unwrap().contains("not compared"),
            "{row}"
        );
        assert!(row.get("inline_p99_ns").is_none(), "{row}");
    }
}

#[test]
fn offloaded_heartbeats_are_compared_with_the_inline_one() {
    let mut args = stalling();
    args.extend(CPU_VARIANTS.iter().flat_map(|v| ["--variant", v]));
    let rows = run_json(BIN, &args);
    let inline_p99 = crate::support::row(&rows, "cpu-inline")["p99_ns"]
        .as_u64()
        .unwrap();
    for variant in OFFLOADED {
        let row = crate::support::row(&rows, variant);
        assert_eq!(row["correct"], true, "{row}");
        assert_eq!(row["inline_p99_ns"], inline_p99, "{row}");
        assert!(
            row["note"].as_str().unwrap().contains("of cpu-inline's"),
            "{row}"
        );
    }
}

#[test]
fn a_spawn_blocking_step_run_inline_is_caught() {
    let mut args = vec!["--json"];
    args.extend(stalling());
    args.extend(["--variant", "cpu-inline", "--variant", "cpu-spawn-blocking"]);
    let output = crate::support::bin(BIN)
        .env("ASYNC_MIXED_FAULT", "spawn-blocking-runs-inline")
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let rows = json_rows(&output);
    assert_eq!(crate::support::row(&rows, "cpu-inline")["correct"], true);
    let faulty = crate::support::row(&rows, "cpu-spawn-blocking");
    assert_eq!(faulty["correct"], false, "{faulty}");
    // Every answer was still right: only the heartbeat gave the mistake away.
    assert_eq!(faulty["result"], faulty["expected"], "{faulty}");
    assert!(
        faulty["note"]
            .as_str()
            .unwrap()
            .contains("held the runtime"),
        "{faulty}"
    );
}

#[test]
fn an_unknown_fault_is_bad_input() {
    let output = crate::support::bin(BIN)
        .env("ASYNC_MIXED_FAULT", "no-such-fault")
        .args(SMALL)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ASYNC_MIXED_FAULT"), "{stderr}");
}

#[test]
fn an_absurdly_long_run_is_refused_with_its_length() {
    let stderr = assert_usage_error(BIN, &["--tasks", "10000", "--work", "1000000000"]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("would take about"), "{stderr}");
    assert!(stderr.contains("--work"), "{stderr}");
}

#[test]
fn one_variant_runs_alone() {
    for variant in ["io-gather", "cpu-rayon"] {
        let mut args = SMALL.to_vec();
        args.extend(["--variant", variant]);
        let rows = run_json(BIN, &args);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["variant"], variant);
        assert_eq!(rows[0]["correct"], true);
    }
}

#[test]
fn the_table_has_the_verdicts_and_no_ratio_it_did_not_compare() {
    let output = crate::support::bin(BIN).args(SMALL).output().unwrap();
    assert!(output.status.success());
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("x one delay"), "{table}");
    // Steps this short cannot stall the runtime: each p99 is shown, but no ratio of them.
    assert!(table.contains("not compared"), "{table}");
    assert!(table.contains("cpu-spawn-blocking's "), "{table}");
    assert!(table.contains("cpu-rayon's "), "{table}");
    assert!(!table.contains("x cpu-spawn-blocking's"), "{table}");
    assert!(!table.contains("x cpu-rayon's"), "{table}");
}

#[test]
fn the_default_run_compares_the_heartbeats() {
    // No sizes: the default --work must hold the runtime long enough, in this build, for the
    // offloaded heartbeats to be compared with cpu-inline's.
    let output = crate::support::bin(BIN).output().unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    // 0, or 1 if a noisy machine failed the factor: either way the comparison was made.
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{output:?}\n{table}"
    );
    assert!(!table.contains("not compared"), "{table}");
    assert!(table.contains("x cpu-spawn-blocking's"), "{table}");
    assert!(table.contains("x cpu-rayon's"), "{table}");
}

#[test]
fn bad_input_exits_2() {
    assert_usage_errors(
        BIN,
        &[
            &["--requests", "0"],
            &["--requests", "401"],
            &["--delay-ms", "0"],
            &["--tasks", "0"],
            &["--work", "0"],
            &["--work", "-5"],
            &["--workers", "0"],
            &["--variant", "cpu-fork"],
        ],
    );
}

#[test]
fn python_twin_rows_parse_and_are_correct() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/python/async_mixed.py"
    );
    // Run by hand rather than with `run_python_twin`: every process the twin starts inherits
    // this marker in its environment, so leftovers can be found by it (a "spawn" child's command
    // line does not name the script, and other twins may be running beside this one).
    let marker = format!("async-mixed-twin-{}", std::process::id());
    let output = Command::new("python3")
        .env("ASYNC_MIXED_TEST_MARKER", &marker)
        .arg(script)
        .arg("--json")
        .args(SMALL)
        .args(["--work", "2000"])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = json_rows(&output);
    assert_eq!(rows.len(), 4);
    let rust = run_json(BIN, SMALL);
    for row in &rows {
        crate::support::assert_design_fields(row);
        assert_eq!(row["lesson"], BIN);
        assert_eq!(row["correct"], true, "{row}");
        // Each twin row pairs with the Rust row of the same mechanism and the same items.
        let pairs = row["pairs_with"].as_str().unwrap();
        let partner = crate::support::row(&rust, pairs);
        assert_eq!(row["mechanism"], "async", "{row}");
        assert_eq!(row["mechanism"], partner["mechanism"], "{row}");
        assert_eq!(row["items"], partner["items"], "{row} against {partner}");
    }
    // The server's process and the process pool's children were joined: no process carrying
    // the marker is left.
    let leftover = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| std::fs::read(entry.ok()?.path().join("environ")).ok())
        .filter(|environ| String::from_utf8_lossy(environ).contains(&marker))
        .count();
    assert_eq!(leftover, 0, "a Python process outlived the twin");
}
