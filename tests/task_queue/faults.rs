//! `task-queue` under faults that pass and faults that do not: a paused Redis, a damaged queue
//! file, a full Redis, no worker at all; and the queue kept in the file `--broker` names.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{
    LESSON, PrivateRedis, Reaped, assert_nothing_left, ok_row, processes_with, redis_command,
    required_redis_url, status, unique_queue, wait_bounded, wait_for_done,
};
use crate::support::{bin, bin_path, json_rows};

/// How long the tests pause Redis (`DEBUG SLEEP`), in seconds.
const PAUSE_S: u64 = 10;

/// A Redis paused mid-run (`DEBUG SLEEP`, as a fork for a snapshot or a stalled VM pauses it)
/// costs the demo about the pause. The demo's `--timeout-s` is the pause plus a run's worth of
/// room, and less than the pause again four times over: a demo that idles after the broker is
/// back (it once waited four times as long as its stalled look had taken) runs out of time.
/// The pause comes once every job was sent (the producer sends while fewer than 2 000 wait, so
/// all 4 000 are out once 2 000 are done), so that it meets the demo's look for finished jobs.
#[test]
#[ignore = "needs redis-server: run with --ignored"]
fn redis_paused_costs_the_demo_about_the_pause() {
    let redis = PrivateRedis::start_with(&["--enable-debug-command", "local"]);
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let queue = unique_queue("paused");
    let tmp = tempfile::tempdir().unwrap();
    let timeout = (PAUSE_S * 3 + 5).to_string();
    let mut demo = Command::new(bin_path(LESSON))
        .env("TMPDIR", tmp.path())
        .args([
            "--json",
            "--workers",
            "2",
            "--jobs",
            "4000",
            "--work",
            "300000",
        ])
        .args(["--timeout-s", &timeout, "--queue", &queue, "--broker", &url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_done(&url, &queue, 2000);
    let addr = format!("127.0.0.1:{}", redis.port);
    let reply = redis_command(&addr, &format!("DEBUG SLEEP {PAUSE_S}"));
    assert!(reply.starts_with("+OK"), "DEBUG SLEEP answered {reply}");
    assert!(
        demo.try_wait().unwrap().is_none(),
        "the demo ended before the pause was over: make the run longer"
    );
    let output = wait_bounded(demo, Duration::from_secs(300));
    let rows = json_rows(&output);
    let r = ok_row(&output, &rows, "redis");
    assert_eq!(r["result"].as_u64(), Some(4000), "{r}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("answers again"),
        "the pause was not met: {stderr}"
    );
    assert!(processes_with(&queue).is_empty(), "workers left behind");
}

/// `task-queue status` on a new queue file, which creates apalis' tables; returns the file's
/// size once SQLite's log is merged into it: every page past it is one the jobs added.
fn new_queue_file(path: &Path, queue: &str) -> u64 {
    status(&format!("sqlite://{}", path.display()), queue);
    let merge = "import sqlite3, sys\n\
                 c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
                 c.execute('PRAGMA wal_checkpoint(TRUNCATE)')\n";
    let merged = Command::new("python3")
        .args(["-c", merge])
        .arg(path)
        .status()
        .unwrap();
    assert!(merged.success());
    std::fs::metadata(path).unwrap().len()
}

/// A queue file with pages of jobs zeroed (a disk that lost them, a copy cut short): the
/// worker says so once and exits 2, rather than restarting on "malformed" forever.
#[test]
fn a_damaged_queue_file_ends_a_worker_once() {
    let queue = unique_queue("damaged");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.db");
    let broker = format!("sqlite://{}", file.display());
    let tables = new_queue_file(&file, &queue);
    let submit = bin(LESSON)
        .args([
            "submit", "--broker", &broker, "--queue", &queue, "--jobs", "2000",
        ])
        .output()
        .unwrap();
    assert!(submit.status.success(), "{submit:?}");
    new_queue_file(&file, &queue);
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size > tables, "the jobs added no page");
    // The later half of the jobs' pages: the worker's first query on the jobs meets them,
    // a look at the first job does not, so the file still seems to answer between failures.
    let from = usize::try_from(tables + (size - tables) / 4096 / 2 * 4096).unwrap();
    let mut damaged = std::fs::read(&file).unwrap();
    damaged[from..].fill(0);
    std::fs::write(&file, damaged).unwrap();
    let log = dir.path().join("worker.log");
    let mut worker = Reaped(
        Command::new(bin_path(LESSON))
            .args(["worker", "--broker", &broker, "--queue", &queue])
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let exit = loop {
        if let Some(exit) = worker.0.try_wait().unwrap() {
            break exit;
        }
        let said = std::fs::read_to_string(&log).unwrap();
        assert!(
            Instant::now() < deadline,
            "the worker still runs on a damaged file: {}",
            said.lines().take(6).collect::<Vec<_>>().join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let said = std::fs::read_to_string(&log).unwrap();
    assert_eq!(exit.code(), Some(2), "{said}");
    assert_eq!(said.matches("malformed").count(), 1, "{said}");
    assert!(!said.contains("answers again"), "{said}");
    // The demo on the same file ends too, with the same status, and leaves no worker.
    let tmp = tempfile::tempdir().unwrap();
    let demo = bin(LESSON)
        .env("TMPDIR", tmp.path())
        .args([
            "--json",
            "--workers",
            "1",
            "--jobs",
            "100",
            "--timeout-s",
            "100",
        ])
        .args(["--queue", &queue, "--broker", &broker])
        .output()
        .unwrap();
    assert_eq!(demo.status.code(), Some(2), "{demo:?}");
    assert_nothing_left(&queue, tmp.path());
}

/// Once `submit` exits, its jobs are in the file `--broker` names, not only in SQLite's log
/// beside it: a copy of that one file is the whole queue.
#[test]
fn submitted_jobs_are_in_the_queue_file_itself() {
    let queue = unique_queue("in-file");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.db");
    let submit = bin(LESSON)
        .args([
            "submit",
            "--broker",
            &format!("sqlite://{}", file.display()),
        ])
        .args(["--queue", &queue, "--jobs", "1500"])
        .output()
        .unwrap();
    assert!(submit.status.success(), "{submit:?}");
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(&file, copy.path().join("q.db")).unwrap();
    let copied = format!("sqlite://{}", copy.path().join("q.db").display());
    assert_eq!(status(&copied, &queue)["pending"], 1500);
}

/// `submit` with no worker on the queue: once the backlog is full it says that nobody takes
/// the jobs and how many it queued (a usage error: start a worker), instead of a minute of
/// silence and then a failure.
fn submit_without_a_worker(broker: &str, queue: &str) {
    let submit = bin(LESSON)
        .args([
            "submit", "--broker", broker, "--queue", queue, "--jobs", "3000",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&submit.stderr);
    assert_eq!(submit.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no worker is running"), "{stderr}");
    // Two chunks fill the backlog; the third waits for a worker.
    assert!(
        stderr.contains("2000 of 3000 jobs reached the queue"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn submit_without_a_worker_says_so_and_how_many_it_queued() {
    let dir = tempfile::tempdir().unwrap();
    let broker = format!("sqlite://{}", dir.path().join("q.db").display());
    submit_without_a_worker(&broker, &unique_queue("no-worker"));
}

#[test]
#[ignore = "needs REDIS_URL: run with --ignored and a Redis server"]
fn redis_submit_without_a_worker_says_so_and_how_many_it_queued() {
    submit_without_a_worker(&required_redis_url(), &unique_queue("no-worker-redis"));
}

/// Redis' `used_memory`, in bytes.
fn used_memory(addr: &str) -> u64 {
    use std::io::{Read as _, Write as _};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(b"INFO memory\r\n").unwrap();
    let mut reply = vec![0u8; 16 * 1024];
    let n = conn.read(&mut reply).unwrap();
    let text = String::from_utf8_lossy(&reply[..n]).to_string();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .unwrap_or_else(|| panic!("no used_memory in {text}"));
    line.trim().parse().unwrap()
}

/// A Redis that reaches its `maxmemory` while jobs go in: `submit` says, in one line, how
/// many reached the queue (counted by id: Redis keeps what a script wrote before it ran out)
/// and how many to submit next, and exits 2 (the server's memory is the user's to fix).
#[test]
#[ignore = "needs redis-server: run with --ignored"]
fn redis_full_submit_says_how_many_jobs_went_in() {
    let redis = PrivateRedis::start();
    let addr = format!("127.0.0.1:{}", redis.port);
    let url = format!("redis://{addr}");
    // Room for some hundreds of jobs more than the empty server holds.
    let limit = used_memory(&addr) + 1_000_000;
    let reply = redis_command(&addr, &format!("CONFIG SET maxmemory {limit}"));
    assert!(reply.starts_with("+OK"), "CONFIG SET answered {reply}");
    let queue = unique_queue("full");
    let submit = bin(LESSON)
        .args([
            "submit", "--broker", &url, "--queue", &queue, "--jobs", "3000",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&submit.stderr);
    assert_eq!(submit.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.matches("maxmemory").count(), 1, "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let held: u64 = redis_command(&addr, &format!("HLEN {queue}:data"))
        .trim()
        .trim_start_matches(':')
        .parse()
        .unwrap();
    assert!(held > 0, "no job went in: raise the limit: {stderr}");
    let said = format!("{held} of 3000 jobs reached the queue");
    assert!(stderr.contains(&said), "{said}? {stderr}");
    let rest = format!("submit --jobs {}", 3000 - held);
    assert!(stderr.contains(&rest), "{rest}? {stderr}");
}
