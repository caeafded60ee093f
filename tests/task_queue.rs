//! `task-queue` end to end: the demo on SQLite (always) and Redis (when `REDIS_URL` is set),
//! a worker killed mid-job, failing jobs, a broker that is not there, Ctrl-C, and the
//! worker/submit/status commands; nothing left behind.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{assert_design_fields, assert_usage_error, bin, bin_path, json_rows, row};

const LESSON: &str = "task-queue";

/// A queue name no other test uses, so that leftover processes can be found by it.
fn unique_queue(test: &str) -> String {
    format!("tq-test-{test}-{}", std::process::id())
}

/// The Redis URL CI exports, or `None` with the reason printed.
fn redis_url(test: &str) -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipping {test}: REDIS_URL is not set (.ci/run starts a Redis and sets it)");
            None
        }
    }
}

/// Processes whose command line mentions `needle` (the test's queue name).
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if text.contains(needle) && text.contains("worker") {
            found.push(format!("{}: {text}", name.to_string_lossy()));
        }
    }
    found
}

/// Runs the demo with `--json` on a private TMPDIR and checks that it left nothing behind.
fn demo(queue: &str, args: &[&str]) -> (Output, Vec<Value>) {
    let tmp = tempfile::tempdir().unwrap();
    let output = bin(LESSON)
        .env("TMPDIR", tmp.path())
        .args(["--json", "--queue", queue])
        .args(args)
        .output()
        .unwrap();
    assert_nothing_left(queue, tmp.path());
    let rows = json_rows(&output);
    (output, rows)
}

fn assert_nothing_left(queue: &str, tmp: &Path) {
    assert_eq!(
        processes_with(queue),
        Vec::<String>::new(),
        "workers left behind"
    );
    let left: Vec<_> = std::fs::read_dir(tmp).unwrap().flatten().collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

fn ok_row<'a>(output: &Output, rows: &'a [Value], variant: &str) -> &'a Value {
    assert!(
        output.status.success(),
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let r = row(rows, variant);
    assert_design_fields(r);
    assert_eq!(r["correct"], true, "{r}");
    assert_eq!(r["failed"], 0, "{r}");
    r
}

const SMALL: &[&str] = &["--workers", "2", "--jobs", "200"];

#[test]
fn sqlite_demo_checks_every_result() {
    let (output, rows) = demo(&unique_queue("sqlite"), SMALL);
    let r = ok_row(&output, &rows, "sqlite");
    assert_eq!(
        (r["items"].as_u64(), r["result"].as_u64()),
        (Some(200), Some(200))
    );
    assert!(r["p50_ns"].as_u64().is_some());
}

#[test]
fn variant_runs_only_that_backend() {
    let queue = unique_queue("variant");
    let (output, rows) = demo(&queue, &[SMALL, &["--variant", "sqlite"]].concat());
    ok_row(&output, &rows, "sqlite");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let args = ["--variant", "redis", "--broker", "sqlite:///tmp/unused.db"];
    assert_usage_error(LESSON, &args);
    if let Some(url) = redis_url("variant_runs_only_that_backend") {
        let both = ["--variant", "sqlite", "--variant", "redis"];
        let output = bin(LESSON)
            .env("REDIS_URL", &url)
            .args(["--json", "--queue", &queue])
            .args([SMALL, &both[..]].concat())
            .output()
            .unwrap();
        let rows = json_rows(&output);
        ok_row(&output, &rows, "sqlite");
        ok_row(&output, &rows, "redis");
    }
}

#[test]
fn redis_demo_checks_every_result() {
    let Some(url) = redis_url("redis_demo_checks_every_result") else {
        return;
    };
    let (output, rows) = demo(
        &unique_queue("redis"),
        &[SMALL, &["--broker", &url]].concat(),
    );
    let r = ok_row(&output, &rows, "redis");
    assert_eq!(r["result"].as_u64(), Some(200));
}

/// One worker, so that it surely gets jobs: it SIGKILLs itself in the middle of its 3rd job,
/// the demo starts a replacement, and the batch can only finish if the job runs again.
const ONE_WORKER: &[&str] = &["--workers", "1", "--jobs", "200"];

fn killed_worker_loses_nothing(extra: &[&str], variant: &str, test: &str) {
    let args = [ONE_WORKER, &["--die-on-job", "3"], extra].concat();
    let (output, rows) = demo(&unique_queue(test), &args);
    let r = ok_row(&output, &rows, variant);
    assert!(r["worker_restarts"].as_u64() >= Some(1), "{r}");
}

#[test]
fn sqlite_worker_killed_mid_job_loses_nothing() {
    killed_worker_loses_nothing(&[], "sqlite", "die-sqlite");
}

#[test]
fn redis_worker_killed_mid_job_loses_nothing() {
    if let Some(url) = redis_url("redis_worker_killed_mid_job_loses_nothing") {
        killed_worker_loses_nothing(&["--broker", &url], "redis", "die-redis");
    }
}

/// The demo sends SIGKILL to its only worker once 5 results are in: a real `kill -9`.
fn kill_9_loses_nothing(extra: &[&str], variant: &str, test: &str) {
    // Enough jobs that the batch is far from done when the kill lands, in release too.
    let sizes = ["--workers", "1", "--jobs", "1000", "--work", "100000"];
    let args = [&sizes[..], &["--kill-after", "5"], extra].concat();
    let (output, rows) = demo(&unique_queue(test), &args);
    let r = ok_row(&output, &rows, variant);
    assert!(r["worker_restarts"].as_u64() >= Some(1), "{r}");
}

#[test]
fn sqlite_worker_killed_by_signal_9_loses_nothing() {
    kill_9_loses_nothing(&[], "sqlite", "kill9-sqlite");
}

#[test]
fn redis_worker_killed_by_signal_9_loses_nothing() {
    if let Some(url) = redis_url("redis_worker_killed_by_signal_9_loses_nothing") {
        kill_9_loses_nothing(&["--broker", &url], "redis", "kill9-redis");
    }
}

/// Two jobs always fail: retried, recorded with their error, shown by `status`, exit 1.
fn failing_jobs_are_recorded(broker: &str, variant: &str, queue: &str) {
    let args = [
        "--workers",
        "2",
        "--jobs",
        "20",
        "--fail-jobs",
        "2",
        "--retries",
        "1",
    ];
    let (output, rows) = demo(queue, &[&args[..], &["--broker", broker]].concat());
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let r = row(&rows, variant);
    assert_eq!(
        (r["correct"].as_bool(), r["failed"].as_u64()),
        (Some(false), Some(2))
    );
    assert_eq!(r["result"].as_u64(), Some(18));
    let status = bin(LESSON)
        .args(["--json", "status", "--broker", broker, "--queue", queue])
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let s = &json_rows(&status)[0];
    assert_eq!(
        (s["done"].as_u64(), s["failed"].as_u64()),
        (Some(18), Some(2)),
        "{s}"
    );
    let failures = s["failures"].as_array().unwrap();
    assert!(
        failures
            .iter()
            .all(|f| f[1].as_str().unwrap().contains("failed on purpose"))
    );
}

#[test]
fn sqlite_failing_jobs_are_retried_then_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let broker = format!("sqlite://{}", dir.path().join("q.db").display());
    failing_jobs_are_recorded(&broker, "sqlite", &unique_queue("fail-sqlite"));
}

#[test]
fn redis_failing_jobs_are_retried_then_recorded() {
    if let Some(url) = redis_url("redis_failing_jobs_are_retried_then_recorded") {
        failing_jobs_are_recorded(&url, "redis", &unique_queue("fail-redis"));
    }
}

#[test]
fn a_missing_broker_is_a_usage_error() {
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let err = assert_usage_error(LESSON, &["--broker", &format!("redis://127.0.0.1:{port}")]);
    assert!(err.contains("cannot reach Redis"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let err = assert_usage_error(LESSON, &["--broker", "sqlite:///proc/no-such-dir/q.db"]);
    assert!(err.contains("cannot open SQLite"), "{err}");
    assert_usage_error(
        LESSON,
        &["status", "--broker", "sqlite:///proc/no-such-dir/q.db"],
    );
    let closed = format!("redis://127.0.0.1:{port}");
    assert_usage_error(LESSON, &["submit", "--broker", &closed, "--jobs", "5"]);
    assert_usage_error(LESSON, &["worker", "--broker", &closed]);
    assert_usage_error(LESSON, &["--broker", "http://127.0.0.1"]);
    assert_usage_error(LESSON, &["--jobs", "0"]);
    assert_usage_error(LESSON, &["--workers", "0"]);
}

#[test]
fn ctrl_c_stops_the_workers_and_removes_the_queue() {
    let queue = unique_queue("ctrl-c");
    let tmp = tempfile::tempdir().unwrap();
    let demo = Command::new(bin_path(LESSON))
        .env("TMPDIR", tmp.path())
        .args([
            "--json",
            "--workers",
            "2",
            "--jobs",
            "100000",
            "--queue",
            &queue,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while processes_with(&queue).len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let sent = Command::new("kill")
        .args(["-INT", &demo.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = demo.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("interrupted"));
    assert_nothing_left(&queue, tmp.path());
}

#[test]
fn worker_submit_and_status_work_apart() {
    let queue = unique_queue("split");
    let dir = tempfile::tempdir().unwrap();
    let broker = format!("sqlite://{}", dir.path().join("q.db").display());
    let submit = bin(LESSON)
        .args([
            "submit", "--broker", &broker, "--queue", &queue, "--jobs", "30",
        ])
        .output()
        .unwrap();
    assert!(submit.status.success(), "{submit:?}");
    let mut worker = Reaped(
        Command::new(bin_path(LESSON))
            .args(["worker", "--broker", &broker, "--queue", &queue])
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = Value::Null;
    while Instant::now() < deadline {
        let status = bin(LESSON)
            .args(["--json", "status", "--broker", &broker, "--queue", &queue])
            .output()
            .unwrap();
        assert!(status.status.success(), "{status:?}");
        last = json_rows(&status).remove(0);
        if last["done"] == 30 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill")
        .args(["-TERM", &worker.0.id().to_string()])
        .status()
        .unwrap();
    let exit = worker.0.wait().unwrap();
    assert_eq!(last["done"], 30, "{last}");
    assert_eq!(
        (last["pending"].as_u64(), last["failed"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(exit.success(), "a worker stops cleanly on SIGTERM: {exit}");
}

/// A child that is killed and reaped even when the test fails half-way.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
