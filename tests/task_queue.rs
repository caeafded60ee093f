//! `task-queue` end to end: the demo on SQLite (always) and Redis (the ignored `redis_*`
//! tests, run with `--ignored` and `REDIS_URL`), a worker killed mid-job, failing jobs, a
//! broker that is not there, a locked queue file, dropped Redis connections, a restarted Redis,
//! Ctrl-C, a killed demo, and the worker/submit/status commands; nothing left behind.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    assert_design_fields, assert_usage_error, assert_usage_errors, bin, bin_path, json_rows, row,
};

mod faults;

const LESSON: &str = "task-queue";

/// A queue name no other test uses, so that leftover processes can be found by it.
fn unique_queue(test: &str) -> String {
    format!("tq-test-{test}-{}", std::process::id())
}

/// The Redis URL CI exports. The `redis_*` tests are `#[ignore]`d, so they run only when asked
/// for; asked for without a server, they fail rather than pass having tested nothing.
fn required_redis_url() -> String {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "REDIS_URL is not set: start a Redis server and run \
             REDIS_URL=redis://127.0.0.1:6379 cargo test --test tests -- --ignored task_queue::redis"
        ),
    }
}

/// Worker processes (`task-queue worker ...`) whose command line mentions `needle` (the test's
/// queue name). The demo's own command line (`--workers`) does not count.
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
        if text.contains(needle) && text.contains(" worker ") {
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
    assert!(rows.iter().all(|r| r["mechanism"] == "broker"), "{rows:?}");
    assert!(r["redeliveries"].is_u64(), "{r}");
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
}

#[test]
#[ignore = "needs REDIS_URL: run with --ignored and a Redis server"]
fn redis_variants_run_both_backends() {
    let url = required_redis_url();
    let both = ["--variant", "sqlite", "--variant", "redis"];
    let output = bin(LESSON)
        .env("REDIS_URL", &url)
        .args(["--json", "--queue", &unique_queue("variants")])
        .args([SMALL, &both[..]].concat())
        .output()
        .unwrap();
    let rows = json_rows(&output);
    ok_row(&output, &rows, "sqlite");
    ok_row(&output, &rows, "redis");
    assert_eq!(rows.len(), 2, "{rows:?}");
}

#[test]
#[ignore = "needs REDIS_URL: run with --ignored and a Redis server"]
fn redis_demo_checks_every_result() {
    let url = required_redis_url();
    let (output, rows) = demo(
        &unique_queue("redis"),
        &[SMALL, &["--broker", &url]].concat(),
    );
    let r = ok_row(&output, &rows, "redis");
    assert_eq!(r["result"].as_u64(), Some(200));
}

/// Runs the demo on one worker process with `fault` (a way to kill it with SIGKILL), and
/// requires every job done and checked and the dead worker replaced. When the fault surely
/// lands mid-job, the broker's delivery counts must show the job delivered again.
fn killed_worker_loses_nothing(fault: &[&str], extra: &[&str], variant: &str, test: &str) {
    let args = [&["--workers", "1"][..], fault, extra].concat();
    let (output, rows) = demo(&unique_queue(test), &args);
    let r = ok_row(&output, &rows, variant);
    assert!(r["worker_restarts"].as_u64() >= Some(1), "{r}");
    if fault == DIE_ON_JOB {
        assert!(r["redeliveries"].as_u64() >= Some(1), "{r}");
    }
}

/// The only worker SIGKILLs itself in the middle of its 3rd job (it surely gets jobs: there is
/// no other), the demo starts a replacement, and the batch can only finish if the job runs
/// again.
const DIE_ON_JOB: &[&str] = &["--jobs", "200", "--die-on-job", "3"];

/// The demo sends SIGKILL to its only worker once 5 results are in: a real `kill -9`, landing
/// wherever the worker is (mid-job, or between two fetches when the jobs are quick: the
/// die-on-job tests are the ones that force mid-job). Either way nothing may be lost, and the
/// demo reaps the worker it kills, so the restart is always counted.
const KILL_9: &[&str] = &["--jobs", "1000", "--work", "100000", "--kill-after", "5"];

#[test]
fn sqlite_worker_killed_mid_job_loses_nothing() {
    killed_worker_loses_nothing(DIE_ON_JOB, &[], "sqlite", "die-sqlite");
}

#[test]
#[ignore = "needs REDIS_URL: run with --ignored and a Redis server"]
fn redis_worker_killed_mid_job_loses_nothing() {
    let url = required_redis_url();
    killed_worker_loses_nothing(DIE_ON_JOB, &["--broker", &url], "redis", "die-redis");
}

#[test]
fn sqlite_worker_killed_by_signal_9_loses_nothing() {
    killed_worker_loses_nothing(KILL_9, &[], "sqlite", "kill9-sqlite");
}

#[test]
#[ignore = "needs REDIS_URL: run with --ignored and a Redis server"]
fn redis_worker_killed_by_signal_9_loses_nothing() {
    let url = required_redis_url();
    killed_worker_loses_nothing(KILL_9, &["--broker", &url], "redis", "kill9-redis");
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
#[ignore = "needs REDIS_URL: run with --ignored and a Redis server"]
fn redis_failing_jobs_are_retried_then_recorded() {
    let url = required_redis_url();
    failing_jobs_are_recorded(&url, "redis", &unique_queue("fail-redis"));
}

#[test]
fn bad_input_and_a_missing_broker_are_usage_errors() {
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = format!("redis://127.0.0.1:{port}");
    let unwritable = "sqlite:///proc/no-such-dir/q.db";
    assert_usage_errors(
        LESSON,
        &[
            &["--broker", &closed],
            &["--broker", unwritable],
            &["status", "--broker", unwritable],
            &["submit", "--broker", &closed, "--jobs", "5"],
            &["worker", "--broker", &closed],
            &["--broker", "http://127.0.0.1"],
            &["--jobs", "0"],
            &["--jobs", "abc"],
            &["--jobs", "1000001"],
            &["--workers", "0"],
            &["--concurrency", "0"],
            &["--retries", "21"],
            &["--variant", "rabbitmq"],
        ],
    );
    let err = assert_usage_error(LESSON, &["--broker", &closed]);
    assert!(err.contains("cannot reach Redis"), "{err}");
    let err = assert_usage_error(LESSON, &["--broker", unwritable]);
    assert!(err.contains("cannot open SQLite"), "{err}");
    // A negative size reaches the range check (not clap's "unexpected argument"), in the
    // subcommands too.
    for args in [
        &["--jobs", "-3"][..],
        &["submit", "--broker", unwritable, "--jobs", "-3"],
        &["worker", "--broker", unwritable, "--concurrency", "-3"],
    ] {
        let err = assert_usage_error(LESSON, args);
        assert!(err.contains("must be a whole number from 1 to"), "{err}");
    }
    for flag in ["--fail-jobs", "--kill-after"] {
        let err = assert_usage_error(LESSON, &[flag, "-3", "--jobs", "5"]);
        assert!(err.contains("must be a whole number from 0 to"), "{err}");
    }
}

/// A server that accepts the connection (the kernel does, from the listen backlog) and never
/// says a word: the client's timeouts end the wait. `bin` fails the test if the run hangs.
#[test]
fn a_broker_that_never_answers_is_a_usage_error() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}", silent.local_addr().unwrap());
    for args in [&["--broker", &url][..], &["worker", "--broker", &url]] {
        let err = assert_usage_error(LESSON, args);
        assert!(err.contains("cannot reach Redis"), "{err}");
    }
    drop(silent);
}

/// Ctrl-C mid-run: the demo stops its workers and exits 130, nothing is left behind, and the
/// queue it leaves is consistent: a worker started afterwards finishes every job it holds.
#[test]
fn ctrl_c_stops_the_workers_and_leaves_the_queue_consistent() {
    let queue = unique_queue("ctrl-c");
    let tmp = tempfile::tempdir().unwrap();
    let kept = tempfile::tempdir().unwrap();
    let broker = format!("sqlite://{}", kept.path().join("q.db").display());
    let demo = Command::new(bin_path(LESSON))
        .env("TMPDIR", tmp.path())
        .args(["--json", "--workers", "2", "--jobs", "100000"])
        .args(["--queue", &queue, "--broker", &broker])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The demo installs its Ctrl-C handler before it starts a worker, so once a worker runs,
    // SIGINT reaches the handler, not the default action: the order is forced, not timed.
    let deadline = Instant::now() + Duration::from_secs(120);
    while processes_with(&queue).is_empty() {
        assert!(Instant::now() < deadline, "no worker started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = demo.id().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success());
    let output = wait_bounded(demo, Duration::from_secs(120));
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("interrupted"));
    assert_nothing_left(&queue, tmp.path());
    let status = drain(&broker, &queue);
    let total = ["pending", "running", "done", "failed"]
        .iter()
        .map(|k| status[k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(
        (status["done"].as_u64(), status["failed"].as_u64()),
        (Some(total), Some(0)),
        "{status}"
    );
}

/// Ctrl-C on a worker started by hand: it stops cleanly and exits 130, as the demo does
/// (SIGTERM, what the demo sends its workers, stays a plain stop: see `stop_worker`).
#[test]
fn ctrl_c_stops_a_worker_with_status_130() {
    let queue = unique_queue("worker-ctrl-c");
    let dir = tempfile::tempdir().unwrap();
    let broker = format!("sqlite://{}", dir.path().join("q.db").display());
    let log = dir.path().join("worker.log");
    let worker = Command::new(bin_path(LESSON))
        .args(["worker", "--broker", &broker, "--queue", &queue])
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // Its signal handlers are in place before it says it is pulling jobs.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log)
        .unwrap()
        .contains("pulling jobs")
    {
        assert!(Instant::now() < deadline, "the worker did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = worker.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let output = wait_bounded(worker, Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    assert!(
        processes_with(&queue).is_empty(),
        "the worker is still running"
    );
}

/// Waits for `child` to exit, at most `limit`; kills it and fails the test after that.
fn wait_bounded(child: std::process::Child, limit: Duration) -> Output {
    let pid = child.id().to_string();
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match result.recv_timeout(limit) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            panic!("the demo did not exit within {limit:?} of Ctrl-C");
        }
    }
}

/// Runs one worker on `queue` until no job is pending or running, and returns the last status.
fn drain(broker: &str, queue: &str) -> Value {
    let mut worker = Reaped(
        Command::new(bin_path(LESSON))
            .args(["worker", "--broker", broker, "--queue", queue])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let last = loop {
        let last = status(broker, queue);
        if last["pending"] == 0 && last["running"] == 0 || Instant::now() > deadline {
            break last;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    stop_worker(&mut worker);
    last
}

/// `task-queue status --json` of `queue`.
fn status(broker: &str, queue: &str) -> Value {
    let output = bin(LESSON)
        .args(["--json", "status", "--broker", broker, "--queue", queue])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    json_rows(&output).remove(0)
}

/// SIGTERM, and the worker must stop cleanly.
fn stop_worker(worker: &mut Reaped) {
    let pid = worker.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let exit = worker.0.wait().unwrap();
    assert!(exit.success(), "a worker stops cleanly on SIGTERM: {exit}");
}

#[test]
fn worker_submit_and_status_work_apart() {
    let queue = unique_queue("split");
    let dir = tempfile::tempdir().unwrap();
    let broker = format!("sqlite://{}", dir.path().join("q.db").display());
    let submit = bin(LESSON)
        .args(["submit", "--broker", &broker, "--queue", &queue])
        .args(["--jobs", "30"])
        .output()
        .unwrap();
    assert!(submit.status.success(), "{submit:?}");
    assert_eq!(status(&broker, &queue)["pending"], 30);
    let last = drain(&broker, &queue);
    assert_eq!(
        (last["done"].as_u64(), last["failed"].as_u64()),
        (Some(30), Some(0)),
        "{last}"
    );
}

/// The Python with `celery` and `redis`: `CELERY_PYTHON` (CI points it at
/// target/compare/venv/bin/python), else that venv if it exists; asked for without either, the
/// test fails rather than pass having tested nothing.
fn celery_python() -> std::path::PathBuf {
    if let Ok(python) = std::env::var("CELERY_PYTHON")
        && !python.is_empty()
    {
        return python.into();
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/compare/venv/bin/python");
    assert!(
        venv.exists(),
        "set CELERY_PYTHON to a Python with celery and redis (python3 -m venv \
         target/compare/venv && target/compare/venv/bin/pip install -r \
         examples/python/requirements-celery.txt)"
    );
    venv
}

/// The Celery twin on Redis, with the Rust demo's flags: same jobs, same jobs in flight.
#[test]
#[ignore = "needs REDIS_URL and Celery (CELERY_PYTHON or target/compare/venv): run with --ignored"]
fn celery_twin_squares_every_job() {
    let url = required_redis_url();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python/task_queue.py");
    let output = Command::new(celery_python())
        .arg(&script)
        .args(["--json", "--broker", &url, "--jobs", "50"])
        .args(["--workers", "2", "--concurrency", "3"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let rows = json_rows(&output);
    let r = &rows[0];
    assert_design_fields(r);
    // The sum of i * i for i in 0..50, in closed form.
    assert_eq!(r["expected"].as_u64(), Some(49 * 50 * 99 / 6));
    assert_eq!(
        (r["correct"].as_bool(), r["pairs_with"].as_str()),
        (Some(true), Some("redis"))
    );
    assert_eq!(
        (r["mechanism"].as_str(), r["items"].as_u64()),
        (Some("broker"), Some(50))
    );
    assert_eq!(r["in_flight"].as_u64(), Some(6), "{r}");
}

/// The Rust demo with the flags the twin gets: the same jobs in flight, the same items.
#[test]
fn rows_say_how_many_jobs_are_in_flight() {
    let args = ["--workers", "2", "--concurrency", "3", "--jobs", "50"];
    let (output, rows) = demo(&unique_queue("in-flight"), &args);
    let r = ok_row(&output, &rows, "sqlite");
    assert_eq!(
        (r["in_flight"].as_u64(), r["items"].as_u64()),
        (Some(6), Some(50)),
        "{r}"
    );
}

/// The table for people shows the redeliveries beside the jobs in flight, and its legend says
/// what they are, as `--json` names the field.
#[test]
fn the_table_shows_and_explains_redeliveries() {
    let tmp = tempfile::tempdir().unwrap();
    let output = bin(LESSON)
        .env("TMPDIR", tmp.path())
        .args([
            "--queue",
            &unique_queue("legend"),
            "--workers",
            "1",
            "--jobs",
            "20",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("in flight; 0 redeliveries"), "{table}");
    let legend = table
        .lines()
        .find(|l| l.trim_start().starts_with("redeliveries"));
    assert!(
        legend.is_some_and(|l| l.contains("no retry explains")),
        "{table}"
    );
}

/// A child that is killed and reaped even when the test fails half-way.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How long the tests hold the queue file's write lock: longer than the busy timeout (5 s)
/// after which every SQLite statement waiting for it fails with "database is locked".
const LOCK_S: &str = "8";

/// Holds an exclusive lock on the SQLite file `path` for `seconds`, as another process using
/// the queue might (a backup, a migration, `sqlite3` by hand); returns when it has let go.
fn hold_exclusive_lock(path: &Path, seconds: &str) {
    let script = "import sqlite3, sys, time\n\
                  c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)\n\
                  c.execute('BEGIN EXCLUSIVE')\n\
                  time.sleep(float(sys.argv[2]))\n\
                  c.execute('COMMIT')\n";
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .arg(seconds)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "python3 could not lock {}",
        path.display()
    );
}

/// Waits until `task-queue status` shows at least `done` jobs done on `queue`.
fn wait_for_done(broker: &str, queue: &str, done: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while status(broker, queue)["done"].as_u64() < Some(done) {
        assert!(
            Instant::now() < deadline,
            "fewer than {done} jobs done after 120 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts the demo on `broker` (its workers are `task-queue worker` processes), lets `fault`
/// strike once some jobs are done, and requires every job done with the right result by id,
/// no worker process lost (`worker_restarts` 0), and the fault reported on stderr.
fn demo_survives(broker: &str, test: &str, fault: impl FnOnce()) -> Value {
    let queue = unique_queue(test);
    let tmp = tempfile::tempdir().unwrap();
    let mut demo = Command::new(bin_path(LESSON))
        .env("TMPDIR", tmp.path())
        .args([
            "--json",
            "--workers",
            "2",
            "--jobs",
            "20000",
            "--timeout-s",
            "240",
        ])
        .args(["--queue", &queue, "--broker", broker])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_done(broker, &queue, 300);
    fault();
    assert!(
        demo.try_wait().unwrap().is_none(),
        "the demo ended before the fault was over: make the run longer"
    );
    let output = wait_bounded(demo, Duration::from_secs(300));
    assert_nothing_left(&queue, tmp.path());
    let rows = json_rows(&output);
    let r = ok_row(
        &output,
        &rows,
        if broker.starts_with("redis") {
            "redis"
        } else {
            "sqlite"
        },
    );
    assert_eq!(r["result"].as_u64(), Some(20000), "{r}");
    assert_eq!(
        r["worker_restarts"].as_u64(),
        Some(0),
        "a worker exited: {r}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the broker failed"),
        "the fault was not met: {stderr}"
    );
    assert!(stderr.contains("answers again"), "{stderr}");
    r.clone()
}

#[test]
fn sqlite_workers_wait_out_a_locked_queue_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.db");
    let broker = format!("sqlite://{}", file.display());
    demo_survives(&broker, "locked", || hold_exclusive_lock(&file, LOCK_S));
}

/// A worker started by hand (no demo to replace it) meets the lock while it polls, says so
/// once, and goes on taking jobs afterwards.
#[test]
fn a_worker_started_by_hand_outlives_a_locked_queue_file() {
    let queue = unique_queue("by-hand");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.db");
    let broker = format!("sqlite://{}", file.display());
    let log = dir.path().join("worker.log");
    let mut worker = Reaped(
        Command::new(bin_path(LESSON))
            .args(["worker", "--broker", &broker, "--queue", &queue])
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let submit = |jobs: &str| {
        let output = bin(LESSON)
            .args([
                "submit", "--broker", &broker, "--queue", &queue, "--jobs", jobs,
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
    };
    submit("100");
    wait_for_done(&broker, &queue, 100);
    hold_exclusive_lock(&file, LOCK_S);
    submit("100");
    wait_for_done(&broker, &queue, 200);
    assert!(worker.0.try_wait().unwrap().is_none(), "the worker exited");
    stop_worker(&mut worker);
    let said = std::fs::read_to_string(&log).unwrap();
    // Opening a new queue file while `submit` creates it can meet a busy file too; that start-up
    // wait is not the one under test, so count only what the worker said once it was polling.
    let polling = said
        .split_once("pulling jobs from queue")
        .map_or("", |(_, after)| after);
    assert_eq!(polling.matches("the broker failed").count(), 1, "{said}");
    assert_eq!(polling.matches("answers again").count(), 1, "{said}");
}

/// Where a `redis://HOST:PORT[/DB]` URL's server listens.
fn redis_addr(url: &str) -> String {
    let rest = url.strip_prefix("redis://").expect("a redis:// URL");
    let host_port = rest.split('/').next().unwrap();
    host_port.rsplit('@').next().unwrap().to_string()
}

/// Sends one inline command to the Redis server at `addr` and returns its first reply line
/// (none when the server closes the connection, as `SHUTDOWN` does).
fn redis_command(addr: &str, command: &str) -> String {
    use std::io::{BufRead as _, BufReader, Write as _};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(format!("{command}\r\n").as_bytes()).unwrap();
    let mut line = String::new();
    let _ = BufReader::new(conn).read_line(&mut line);
    line
}

/// Every client connection dropped twice mid-run (`CLIENT KILL TYPE normal`, apalis issue
/// #49): the workers reconnect and finish every job.
#[test]
#[ignore = "needs REDIS_URL: run with --ignored and a Redis server"]
fn redis_workers_survive_dropped_connections() {
    let url = required_redis_url();
    let addr = redis_addr(&url);
    demo_survives(&url, "client-kill", || {
        for _ in 0..2 {
            let reply = redis_command(&addr, "CLIENT KILL TYPE normal");
            assert!(reply.starts_with(':'), "CLIENT KILL answered {reply}");
            std::thread::sleep(Duration::from_secs(1));
        }
    });
}

/// A Redis server of the test's own, on a free port, keeping its data in an append-only file
/// so that a restart loses no job.
struct PrivateRedis {
    port: u16,
    dir: tempfile::TempDir,
    server: Reaped,
    /// More `redis-server` flags, given again on a restart.
    extra: Vec<String>,
}

impl PrivateRedis {
    fn start() -> Self {
        Self::start_with(&[])
    }

    fn start_with(extra: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let extra: Vec<String> = extra.iter().map(ToString::to_string).collect();
        let server = Reaped(Self::spawn(port, dir.path(), &extra));
        let redis = Self {
            port,
            dir,
            server,
            extra,
        };
        redis.wait_until_up();
        redis
    }

    fn spawn(port: u16, dir: &Path, extra: &[String]) -> std::process::Child {
        Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "yes"])
            .args(extra)
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (it comes with Redis)")
    }

    fn wait_until_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `SHUTDOWN` (the data is written out), a second of absence, and the same server again.
    fn restart(&mut self) {
        redis_command(&format!("127.0.0.1:{}", self.port), "SHUTDOWN");
        let exit = self.server.0.wait().unwrap();
        assert!(exit.success(), "redis-server exited with {exit}");
        std::thread::sleep(Duration::from_secs(1));
        self.server = Reaped(Self::spawn(self.port, self.dir.path(), &self.extra));
        self.wait_until_up();
    }
}

/// The Redis server restarts mid-run: the workers wait for it and finish every job.
#[test]
#[ignore = "needs REDIS_URL: run with --ignored and a Redis server"]
fn redis_workers_survive_a_server_restart() {
    let mut redis = PrivateRedis::start();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    demo_survives(&url, "restart", || redis.restart());
}

/// A demo killed with SIGKILL cannot remove its temporary folder; the next demo does.
#[test]
fn the_next_demo_removes_a_killed_demos_temporary_folder() {
    let queue = unique_queue("killed-demo");
    let tmp = tempfile::tempdir().unwrap();
    let mut demo = Command::new(bin_path(LESSON))
        .env("TMPDIR", tmp.path())
        .args([
            "--json",
            "--workers",
            "1",
            "--jobs",
            "100000",
            "--queue",
            &queue,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while processes_with(&queue).is_empty() {
        assert!(Instant::now() < deadline, "no worker started");
        std::thread::sleep(Duration::from_millis(50));
    }
    demo.kill().unwrap();
    demo.wait().unwrap();
    // Its worker notices that its parent is gone and stops by itself.
    while !processes_with(&queue).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the killed demo's worker kept running"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert_eq!(left.len(), 1, "the killed demo left {left:?}");
    let output = bin(LESSON)
        .env("TMPDIR", tmp.path())
        .args(["--json", "--queue", &queue])
        .args(SMALL)
        .output()
        .unwrap();
    ok_row(&output, &json_rows(&output), "sqlite");
    assert_nothing_left(&queue, tmp.path());
}
