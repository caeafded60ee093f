//! `threads-basic` end to end: every variant through the binary, the verdict, bad input, Ctrl-C,
//! the copyable example, and the Python twin.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

mod idle;

use crate::support::{
    assert_usage_error, assert_usage_errors, bin, bin_path, row, run_json, run_python_twin, u64_of,
    variant_names,
};

const LESSON: &str = "threads-basic";
const VARIANTS: [&str; 9] = [
    "hello",
    "named",
    "job-trait",
    "scoped",
    "control",
    "io-sequential",
    "io-thread-per-request",
    "io-pool",
    "idle-threads",
];
/// Small sizes: the suite runs in a debug build on two cores.
const SMALL: &[&str] = &[
    "--workers",
    "2",
    "--numbers",
    "10000",
    "--requests",
    "6",
    "--delay-ms",
    "5",
    "--threads",
    "50",
];
/// The bytes the server sends for pages 0..6: 6 x 4096 + (0 + 1 + ... + 5).
const SIX_PAGES_BYTES: u64 = 6 * 4096 + 15;
/// The units of work in the controlled worker's job, the same in the Python twin.
const CONTROL_UNITS: u64 = 1_000;

/// The mechanism a Rust variant's row must name: fetching one page after another is
/// sequential, everything else runs on threads.
fn mechanism_of(variant: &str) -> &'static str {
    if variant == "io-sequential" {
        "sequential"
    } else {
        "threads"
    }
}

#[test]
fn every_variant_is_correct() {
    let rows = run_json(LESSON, SMALL);
    let variants: Vec<&str> = variant_names(&rows);
    assert_eq!(variants, VARIANTS);
    for r in &rows {
        assert_eq!(r["lesson"], LESSON);
        assert_eq!(r["correct"], true, "{r}");
        assert!(r.get("expected_failure").is_none(), "{r}");
        let variant = r["variant"].as_str().unwrap_or_default();
        assert_eq!(r["mechanism"], mechanism_of(variant), "{r}");
    }
    assert_eq!(u64_of(row(&rows, "hello"), "result"), 10);
    for summing in ["named", "job-trait", "scoped"] {
        assert_eq!(
            u64_of(row(&rows, summing), "result"),
            50_005_000,
            "{summing}"
        );
    }
    let control = row(&rows, "control");
    assert_eq!(u64_of(control, "units_while_paused"), 0);
    assert!(u64_of(control, "items") > 0, "{control}");
    for key in ["items", "expected", "result"] {
        assert_eq!(u64_of(control, key), CONTROL_UNITS, "{control}");
    }
    // The worker is told to pause after half its job.
    assert_eq!(u64_of(control, "paused_at"), CONTROL_UNITS / 2, "{control}");
    for io in ["io-sequential", "io-thread-per-request", "io-pool"] {
        let r = row(&rows, io);
        assert_eq!(u64_of(r, "expected"), SIX_PAGES_BYTES, "{r}");
        assert_eq!(u64_of(r, "result"), SIX_PAGES_BYTES, "{r}");
        assert_eq!(u64_of(r, "items"), 6, "{r}");
        assert!(r.get("p99_ns").is_some(), "{r}");
    }
    assert_eq!(u64_of(row(&rows, "io-sequential"), "workers"), 1);
    assert_eq!(u64_of(row(&rows, "io-thread-per-request"), "workers"), 6);
    assert_eq!(u64_of(row(&rows, "io-pool"), "workers"), 2);
}

#[test]
fn only_the_chosen_variants_run() {
    let rows = run_json(LESSON, &[SMALL, &["--variant", "io-pool"]].concat());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["variant"], "io-pool");
    let rows = run_json(
        LESSON,
        &[SMALL, &["--variant", "scoped", "--variant", "hello"]].concat(),
    );
    let variants: Vec<&str> = variant_names(&rows);
    assert_eq!(variants, ["hello", "scoped"]);
}

#[test]
fn the_table_gives_speedups_beside_their_ideal() {
    let io = [
        "--variant",
        "io-sequential",
        "--variant",
        "io-thread-per-request",
        "--variant",
        "io-pool",
    ];
    let output = bin(LESSON).args(SMALL).args(io).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let table = String::from_utf8_lossy(&output.stdout);
    // The ideals follow from the sizes: 6 requests at once, or 2 at a time in 3 rounds.
    assert!(
        table.contains("io-thread-per-request: ")
            && table.contains("(ideal 6.0x: 6 requests in flight, 1 round"),
        "{table}"
    );
    assert!(
        table.contains("io-pool: ")
            && table.contains("(ideal 2.0x: 2 requests in flight, 3 rounds"),
        "{table}"
    );
    assert!(table.contains("faster than io-sequential"), "{table}");
    assert!(
        table.contains("p50/p99/max: each request's latency"),
        "{table}"
    );
}

#[test]
fn hours_of_waiting_are_refused_with_how_long() {
    let args = ["--requests", "1000", "--delay-ms", "10000"];
    let stderr = assert_usage_error(LESSON, &args);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("would take about 3 h 7 min"), "{stderr}");
    // The same sizes are fine when no io-* variant runs: nothing waits for the server.
    let long_once = [&args[..], &["--variant", "hello"]].concat();
    assert_eq!(run_json(LESSON, &long_once).len(), 1);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    assert_usage_errors(
        LESSON,
        &[
            &["--workers", "0"],
            &["--workers", "abc"],
            &["--workers", "100000"],
            &["--requests", "0"],
            &["--requests", "1000000"],
            &["--requests", "-3"],
            &["--delay-ms", "-1"],
            &["--numbers", "0"],
            &["--numbers", "99999999999"],
            &["--delay-ms", "86400000"],
            &["--variant", "kill"],
            &["--threads", "0"],
            &["--threads", "4194305"],
        ],
    );
}

#[test]
fn every_size_flag_refuses_a_negative_number_with_its_range() {
    for flag in [
        "--numbers",
        "--requests",
        "--delay-ms",
        "--workers",
        "--threads",
    ] {
        let stderr = assert_usage_error(LESSON, &[flag, "-3"]);
        assert!(
            stderr.contains("must be a whole number from"),
            "{flag} -3: {stderr}"
        );
    }
}

#[test]
fn ctrl_c_exits_130() {
    // A hundred pages at a second each: the run lasts far longer than the test waits, and less
    // than the ten minutes past which it would be refused.
    let mut child = Command::new(bin_path(LESSON))
        .args(["--variant", "io-sequential", "--requests", "100"])
        .args(["--delay-ms", "1000"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    // The announcement of the long run comes after the handler is installed: SIGINT sent once
    // it is read cannot arrive too early.
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(60));
    let status = crate::support::interrupt_and_wait(&mut child, "threads-basic");
    let first = first.expect("the run announced itself on stderr");
    assert!(first.starts_with("fetching 100 pages"), "{first}");
    assert_eq!(status.code(), Some(130), "{status}");
    let last = rx.recv_timeout(Duration::from_secs(5));
    assert!(last.is_ok_and(|line| line.starts_with("interrupted")));
}

/// The copyable example, as `cargo test --workspace` builds it beside the test binaries (built
/// here when it is not, as with `cargo test --test tests`).
fn example_path(name: &str) -> PathBuf {
    let dir = bin_path(LESSON)
        .parent()
        .expect("target/<profile>")
        .to_path_buf();
    let path = dir.join("examples").join(name);
    if !path.exists() {
        let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        build.args(["build", "--quiet", "--example", name]);
        if dir.ends_with("release") {
            build.arg("--release");
        }
        assert!(build.status().expect("cargo runs").success(), "{name}");
    }
    path
}

#[test]
fn the_example_pauses_its_worker_twice_and_checks_itself() {
    let output = assert_cmd::Command::new(example_path("threads_basic"))
        .timeout(Duration::from_secs(120))
        .output()
        .expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.contains("worker paused at units [(250, 0), (500, 0)]"),
        "{stdout}"
    );
}

#[test]
fn python_twin_runs_and_pairs_with_rust_variants() {
    let rows = run_python_twin("threads_basic.py", SMALL);
    assert_eq!(rows.len(), 8, "{rows:?}");
    for r in &rows {
        assert_eq!(r["lesson"], LESSON);
        assert_eq!(r["correct"], true, "{r}");
        let pairs_with = r["pairs_with"].as_str().unwrap_or("");
        assert!(VARIANTS.contains(&pairs_with), "{r}");
    }
    for io in ["io-sequential", "io-threads", "io-executor"] {
        assert_eq!(u64_of(row(&rows, io), "result"), SIX_PAGES_BYTES, "{io}");
    }
    let control = row(&rows, "control");
    assert_eq!(u64_of(control, "result"), CONTROL_UNITS, "{control}");
    assert_eq!(u64_of(control, "units_while_paused"), 0, "{control}");
    assert_eq!(u64_of(control, "paused_at"), CONTROL_UNITS / 2, "{control}");
    idle::assert_idle_row(row(&rows, "idle-threads"), 50);
}

#[test]
fn python_twin_rows_pair_like_for_like() {
    let python = run_python_twin("threads_basic.py", SMALL);
    let rust = run_json(LESSON, SMALL);
    for py in &python {
        let rs: &Value = row(&rust, py["pairs_with"].as_str().unwrap_or_default());
        assert_eq!(py["mechanism"], rs["mechanism"], "{py}\n{rs}");
        assert_eq!(u64_of(py, "items"), u64_of(rs, "items"), "{py}\n{rs}");
        assert_eq!(u64_of(py, "expected"), u64_of(rs, "expected"), "{py}\n{rs}");
        assert!(py.get("cross_mechanism").is_none(), "{py}");
    }
}
