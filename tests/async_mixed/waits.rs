//! `async-mixed`'s wait variants and `--job-ms`: waits counted asleep at once with the memory
//! they took, the thread limits refused or reported, and the CPU step sized in milliseconds;
//! the Python twin's the same.

use std::process::Command;

use crate::support::{assert_usage_error, bin, json_rows, row, run_json, u64_of};

const BIN: &str = "async-mixed";
const TWIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/python/async_mixed.py"
);

/// A kernel limit from `/proc/sys`.
fn proc_limit(path: &str) -> u64 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// More threads than the kernel lets live at once here.
fn too_many_threads() -> u64 {
    proc_limit("/proc/sys/kernel/pid_max").min(proc_limit("/proc/sys/kernel/threads-max")) + 1
}

/// Processes whose environment carries `marker`.
fn processes_marked(marker: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| std::fs::read(entry.ok()?.path().join("environ")).ok())
        .filter(|environ| String::from_utf8_lossy(environ).contains(marker))
        .count()
}

/// Checks a wait row: every wait asleep at once, and the memory the step took.
fn assert_waited(row: &serde_json::Value, waits: u64, mechanism: &str) {
    assert_eq!(row["correct"], true, "{row}");
    assert_eq!(
        (u64_of(row, "expected"), u64_of(row, "result")),
        (waits, waits),
        "{row}"
    );
    assert_eq!(row["mechanism"], mechanism, "{row}");
    // The waits were alive at once, so the peak is above what the process held before them.
    assert!(
        u64_of(row, "peak_rss_kib") > u64_of(row, "base_rss_kib"),
        "{row}"
    );
}

#[test]
fn wait_tasks_count_20_000_waits_and_report_peak_memory() {
    let args = [
        "--variant",
        "wait-tasks",
        "--waits",
        "20000",
        "--delay-ms",
        "1000",
    ];
    let rows = run_json(BIN, &args);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_waited(row(&rows, "wait-tasks"), 20_000, "async");
}

#[test]
fn wait_threads_count_200_waits() {
    let rows = run_json(BIN, &["--variant", "wait-threads", "--waits", "200"]);
    let waited = row(&rows, "wait-threads");
    assert_waited(waited, 200, "threads");
    assert_eq!(u64_of(waited, "workers"), 200, "{waited}");
}

#[test]
fn wait_threads_past_the_kernel_limit_are_refused_and_leave_nothing() {
    let waits = too_many_threads().to_string();
    let marker = format!("async-mixed-waits-{}", std::process::id());
    let output = bin(BIN)
        .env("ASYNC_MIXED_TEST_MARKER", &marker)
        .args(["--variant", "wait-threads", "--waits", &waits])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("kernel.pid_max"), "{stderr}");
    assert_eq!(
        processes_marked(&marker),
        0,
        "a process outlived the refusal"
    );
}

#[test]
fn ctrl_c_during_wait_threads_exits_130_and_leaves_nothing() {
    use std::io::{BufRead, BufReader, Read};
    let marker = format!("async-mixed-waits-int-{}", std::process::id());
    let mut child = Command::new(crate::support::bin_path(BIN))
        .env("ASYNC_MIXED_TEST_MARKER", &marker)
        .args([
            "--variant",
            "wait-threads",
            "--waits",
            "300",
            "--delay-ms",
            "10000",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // The run announces its length after the Ctrl-C handler is installed: an order, not a time.
    let mut announced = String::new();
    stderr.read_line(&mut announced).unwrap();
    assert!(
        announced.contains("300 waits of 10000 ms: about"),
        "{announced:?}"
    );
    let status = crate::support::interrupt_and_wait(&mut child, "wait-threads");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(status.code(), Some(130), "{status} {rest}");
    assert!(rest.contains("interrupted"), "{rest}");
    assert_eq!(
        processes_marked(&marker),
        0,
        "a process outlived the Ctrl-C"
    );
}

#[test]
fn wait_threads_past_the_memory_maps_left_are_refused() {
    // Each std thread maps four regions (stack, signal stack, a guard page each), so this many
    // cannot fit under vm.max_map_count. Running out aborts inside a new thread, so it must be
    // refused before any starts.
    let waits = proc_limit("/proc/sys/vm/max_map_count") / 4 + 1;
    let stderr = assert_usage_error(
        BIN,
        &["--variant", "wait-threads", "--waits", &waits.to_string()],
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("vm.max_map_count"), "{stderr}");
}

#[test]
fn job_ms_and_work_together_are_bad_input() {
    let stderr = assert_usage_error(BIN, &["--job-ms", "2", "--work", "5000"]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--job-ms") && stderr.contains("--work"),
        "{stderr}"
    );
}

#[test]
fn job_ms_sizes_the_cpu_step_and_is_reported() {
    let mut args = vec![
        "--job-ms",
        "2",
        "--tasks",
        "4",
        "--delay-ms",
        "5",
        "--workers",
        "2",
    ];
    args.extend(["--variant", "cpu-inline", "--variant", "cpu-spawn-blocking"]);
    let rows = run_json(BIN, &args);
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in &rows {
        assert_eq!(row["correct"], true, "{row}");
        assert_eq!(u64_of(row, "job_ms"), 2, "{row}");
        assert!(u64_of(row, "work") >= 1, "{row}");
    }
}

/// Runs the twin with `args`, returning its exit code and output.
fn twin(args: &[&str], marker: &str) -> std::process::Output {
    Command::new("python3")
        .env("ASYNC_MIXED_TEST_MARKER", marker)
        .arg(TWIN)
        .args(args)
        .output()
        .expect("python3 runs")
}

#[test]
fn python_twin_waits_and_job_ms() {
    let marker = format!("async-mixed-twin-waits-{}", std::process::id());
    let mut args = vec!["--json", "--waits", "300", "--delay-ms", "200"];
    args.extend(["--variant", "wait-tasks", "--variant", "wait-threads"]);
    args.extend(["--variant", "cpu-inline", "--job-ms", "2", "--tasks", "4"]);
    let output = twin(&args, &marker);
    assert!(output.status.success(), "{output:?}");
    let rows = json_rows(&output);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_waited(row(&rows, "wait-tasks"), 300, "async");
    assert_waited(row(&rows, "wait-threads"), 300, "threads");
    for variant in ["wait-tasks", "wait-threads"] {
        assert_eq!(row(&rows, variant)["pairs_with"], variant);
    }
    let inline = row(&rows, "cpu-inline");
    assert_eq!(
        (&inline["correct"], u64_of(inline, "job_ms")),
        (&true.into(), 2)
    );
    // Bad input: both sizes of the CPU step, and more threads than the kernel allows.
    let waits = too_many_threads().to_string();
    for bad in [
        &["--job-ms", "2", "--work", "5000"][..],
        &["--variant", "wait-threads", "--waits", &waits],
    ] {
        let output = twin(bad, &marker);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{bad:?}: {stderr}");
    }
    assert_eq!(
        processes_marked(&marker),
        0,
        "a Python process outlived the twin"
    );
}
