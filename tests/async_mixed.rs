//! `async-mixed`: every variant correct, one variant alone, bad input, and the Python twin.

use std::process::Command;

use crate::support::{assert_usage_errors, json_rows, run_json, variant_names};

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
fn the_table_has_the_verdicts() {
    let output = crate::support::bin(BIN).args(SMALL).output().unwrap();
    assert!(output.status.success());
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("x one delay"), "{table}");
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
    let rust_variants = ["io-gather", "cpu-inline", "cpu-spawn-blocking", "cpu-rayon"];
    for row in &rows {
        crate::support::assert_design_fields(row);
        assert_eq!(row["lesson"], BIN);
        assert_eq!(row["correct"], true, "{row}");
        let pairs = row["pairs_with"].as_str().unwrap();
        assert!(rust_variants.contains(&pairs), "{row}");
    }
    // The process pool's children were joined: no process carrying the marker is left.
    let leftover = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| std::fs::read(entry.ok()?.path().join("environ")).ok())
        .filter(|environ| String::from_utf8_lossy(environ).contains(&marker))
        .count();
    assert_eq!(leftover, 0, "a Python process outlived the twin");
}
