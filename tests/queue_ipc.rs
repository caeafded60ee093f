//! `queue-ipc`: every variant correct, bad input, and the faults of a process lesson (a child
//! killed mid-stream, the parent interrupted or killed), each checked by looking: worker
//! processes by their command line in `/proc`, segments by name in `/dev/shm`.

use std::fs;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    assert_usage_error, assert_usage_errors, bin_path, json_rows, row, run_json, run_python_twin,
};

/// Messages of `--bytes` each: the shared-memory ring, ipc-channel, the twin's queue.
mod ring;
/// Shared memory under load and under faults.
mod shm_faults;

/// The copyable examples, compiled here so that the tests at their bottom run with these
/// (`cargo test` builds examples but runs no test of theirs).
#[allow(dead_code)]
#[path = "../examples/queue_ipc.rs"]
mod queue_ipc_example;
#[allow(dead_code)]
#[path = "../examples/shared_memory.rs"]
mod shared_memory_example;

const LESSON: &str = "queue-ipc";
/// Small sizes: the whole module runs in a few seconds in a debug build.
const SMALL: [&str; 10] = [
    "--messages",
    "2000",
    "--bytes",
    "64",
    "--increments",
    "20000",
    "--elements",
    "50000",
    "--workers",
    "2",
];

/// A running `queue-ipc` and the private temporary directory it was given (`TMPDIR`), where
/// ipc-channel puts its server's socket.
struct Run {
    parent: Child,
    tmp: tempfile::TempDir,
}

impl Run {
    fn id(&self) -> u32 {
        self.parent.id()
    }
}

/// Every variant, in the order a run without `--variant` runs them.
const VARIANTS: [&str; 8] = [
    "ipc-channel",
    "pipe",
    "pipe-per-message",
    "pipe-tuned",
    "shm-counter-locked",
    "shm-counter",
    "shm-array",
    "shm-ring",
];
/// The variants whose child streams messages to the parent.
const STREAMS: [&str; 4] = ["ipc-channel", "pipe", "pipe-per-message", "pipe-tuned"];
/// The environment variable that makes every worker die by SIGKILL after this many units.
const DIES_AFTER: &str = "QUEUE_IPC_CHILD_DIES_AFTER";

/// Starts `queue-ipc args...` with stdout and stderr captured, in a process group of its own
/// (as a shell starts a job), so a test can signal the group as Ctrl-C in a terminal does.
fn start(args: &[&str]) -> Run {
    start_with(args, &[])
}

/// [`start`], with `env` added to the environment the parent and its children inherit.
fn start_with(args: &[&str], env: &[(&str, &str)]) -> Run {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let parent = Command::new(bin_path(LESSON))
        .args(args)
        .envs(env.iter().copied())
        .env("TMPDIR", tmp.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("the binary starts");
    Run { parent, tmp }
}

/// Waits for the run to exit (failing the test if it takes over 30 s, a hang), requires that it
/// left no worker, no segment and no temporary file behind, and returns its output.
fn finish(mut run: Run) -> Output {
    let pid = run.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    while run.parent.try_wait().expect("try_wait works").is_none() {
        if Instant::now() > deadline {
            let _ = run.parent.kill();
            panic!("queue-ipc (pid {pid}) hung");
        }
        sleep(Duration::from_millis(20));
    }
    assert_nothing_left(pid);
    let left: Vec<_> = fs::read_dir(run.tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
    run.parent
        .wait_with_output()
        .expect("the output is readable")
}

/// No worker of `parent` runs (or is a zombie of it) and no segment of it is in `/dev/shm`.
fn assert_nothing_left(parent: u32) {
    let workers = workers_of(parent);
    for &pid in &workers {
        // Kill leftovers so a failing test does not leave them running (or hold our pipes).
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    assert!(
        workers.is_empty(),
        "workers of {parent} left running: {workers:?}"
    );
    let segments = segments_of(parent);
    assert!(
        segments.is_empty(),
        "segments of {parent} left in /dev/shm: {segments:?}"
    );
}

/// Worker processes started by `parent`: their command line ends with `--parent <pid>`, which
/// finds them even after they were reparented.
fn workers_of(parent: u32) -> Vec<u32> {
    let tail = format!("--parent\0{parent}\0");
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmd| cmd.ends_with(tail.as_bytes()) && cmd.starts_with(b"/"))
        })
        .collect()
}

/// Names in `/dev/shm` that belong to run `parent` (`queue-ipc-<pid>-...`).
fn segments_of(parent: u32) -> Vec<String> {
    let prefix = format!("queue-ipc-{parent}-");
    fs::read_dir("/dev/shm")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|name| name.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// Polls until `parent` has `n` workers running (at most 20 s) and returns their pids.
fn wait_for_workers(parent: u32, n: usize) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let workers = workers_of(parent);
        if workers.len() >= n {
            return workers;
        }
        assert!(
            Instant::now() < deadline,
            "{parent} never started {n} workers"
        );
        sleep(Duration::from_millis(10));
    }
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([name, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {name} {pid} failed");
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn every_variant_is_correct_and_leaves_nothing() {
    let mut args = vec!["--json"];
    args.extend(SMALL);
    let output = finish(start(&args));
    assert!(output.status.success(), "{}", stderr(&output));
    let rows = json_rows(&output);
    assert_eq!(rows.len(), VARIANTS.len(), "{rows:?}");
    for variant in VARIANTS {
        let r = row(&rows, variant);
        assert_eq!(r["correct"], true, "{r}");
        assert_eq!(r["lesson"], LESSON);
        // Streams are processes talking through a pipe or a socket; the rest share memory.
        let mechanism = if STREAMS.contains(&variant) {
            "processes"
        } else {
            "shared-memory"
        };
        assert_eq!(r["mechanism"], mechanism, "{r}");
    }
    for variant in STREAMS.into_iter().chain(["shm-ring"]) {
        let r = row(&rows, variant);
        assert_eq!(r["expected"], 2000);
        assert!(r["p50_ns"].is_u64() && r["max_ns"].is_u64(), "{r}");
    }
    // Two children times 20 000 increments; the sum 0 + 1 + ... + 49 999.
    for variant in ["shm-counter", "shm-counter-locked"] {
        assert_eq!(row(&rows, variant)["result"], 2 * 20_000);
        assert_eq!(row(&rows, variant)["workers"], 2);
        assert!(
            row(&rows, variant)["note"]
                .as_str()
                .unwrap()
                .ends_with("none lost")
        );
    }
    assert_eq!(row(&rows, "shm-array")["result"], 50_000u64 * 49_999 / 2);
    assert!(
        row(&rows, "shm-array")["memcpy_bytes_per_s"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}

#[test]
fn only_the_chosen_variant_runs() {
    let mut args = vec!["--variant", "pipe"];
    args.extend(SMALL);
    let rows = run_json(LESSON, &args);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["variant"], "pipe");
    assert_eq!(rows[0]["payload_bytes"], 64);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    assert_usage_errors(
        LESSON,
        &[
            &["--messages", "0"],
            &["--messages", "lots"],
            &["--bytes", "0"],
            &["--increments", "0"],
            &["--elements", "999999999999"],
            &["--workers", "0"],
            &["--variant", "queue"],
            // The worker is started by a flag checked before parsing, not a subcommand: a stray
            // word is an error like any other.
            &["worker"],
        ],
    );
    let err = assert_usage_error(LESSON, &["--messages", "100000000", "--bytes", "16777216"]);
    assert!(err.contains("64 GiB"), "{err}");
    // ipc-channel's socket lives under TMPDIR: one that cannot be written is the user's to fix.
    let output = Command::new(bin_path(LESSON))
        .args(["--variant", "ipc-channel"])
        .env("TMPDIR", "/nonexistent/queue-ipc")
        .output()
        .expect("the binary starts");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("error: cannot create the ipc-channel socket"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// Every variant with each child dying by SIGKILL after `after` units of work, injected through
/// the environment the children inherit.
fn run_with_dying_children(after: u64) -> Vec<(Value, String)> {
    VARIANTS
        .into_iter()
        .map(|variant| {
            let after = after.to_string();
            let mut args = vec!["--json", "--variant", variant];
            args.extend(SMALL);
            let output = finish(start_with(&args, &[(DIES_AFTER, &after)]));
            let err = stderr(&output);
            assert_eq!(output.status.code(), Some(1), "{variant}: {err}");
            assert!(err.contains("killed by SIGKILL"), "{variant}: {err}");
            let rows = json_rows(&output);
            assert_eq!(rows.len(), 1, "{variant}: {rows:?}");
            assert_eq!(rows[0]["correct"], false, "{variant}: {}", rows[0]);
            (rows[0].clone(), err)
        })
        .collect()
}

#[test]
fn a_child_dying_mid_stream_is_reported_and_leaves_nothing() {
    let rows = run_with_dying_children(500);
    for (r, err) in &rows[..STREAMS.len()] {
        assert_eq!(
            (&r["result"], &r["expected"]),
            (&500.into(), &2000.into()),
            "{r}"
        );
        assert!(err.contains("received 500 of 2 000 messages"), "{err}");
    }
    // One child dies after 500 increments; the other is stopped at once or after its own 500.
    for (r, _) in &rows[4..6] {
        let counter = r["result"].as_u64().unwrap();
        assert!((500..=1000).contains(&counter), "{r}");
    }
    // a[i] = i for the first 500 elements, zeros after.
    assert_eq!(rows[6].0["result"], 500u64 * 499 / 2);
    let (r, err) = &rows[7];
    assert_eq!(r["result"], 500, "{r}");
    assert!(err.contains("received 500 of 2 000 messages"), "{err}");
}

#[test]
fn a_child_dying_before_it_attaches_is_reported_and_leaves_nothing() {
    for (r, _) in run_with_dying_children(0) {
        assert_ne!(r["result"], r["expected"], "{r}");
    }
}

#[test]
fn kill_9_of_a_streaming_child_is_noticed_promptly() {
    // Long enough to be killed mid-stream, short enough to be accepted in a debug build.
    for (variant, messages, words) in [
        ("ipc-channel", "2000000", "2 000 000"),
        ("pipe", "20000000", "20 000 000"),
        // The ring's reader must notice a dead writer on an empty ring, not wait on it.
        ("shm-ring", "50000000", "50 000 000"),
    ] {
        let args = [
            "--json",
            "--variant",
            variant,
            "--messages",
            messages,
            "--bytes",
            "64",
        ];
        let parent = start(&args);
        let workers = wait_for_workers(parent.id(), 1);
        sleep(Duration::from_millis(300));
        signal(workers[0], "-9");
        let output = finish(parent);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{variant}: {err}");
        assert!(
            err.contains(&format!("child {} killed by SIGKILL", workers[0])),
            "{err}"
        );
        let rows = json_rows(&output);
        let received = rows[0]["result"].as_u64().unwrap();
        assert!(received < messages.parse().unwrap(), "{}", rows[0]);
        assert!(err.contains(&format!("of {words} messages")), "{err}");
    }
}

#[test]
fn kill_9_of_one_counting_child_stops_the_others() {
    let args = [
        "--json",
        "--variant",
        "shm-counter",
        "--increments",
        "200000000",
    ];
    let parent = start(&[&args[..], &["--workers", "2"]].concat());
    let workers = wait_for_workers(parent.id(), 2);
    sleep(Duration::from_millis(300));
    signal(workers[0], "-9");
    let output = finish(parent);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("killed by SIGKILL"));
}

#[test]
fn sigterm_and_sigint_to_the_parent_end_the_children() {
    // The parent alone, then the whole group as a terminal's Ctrl-C does.
    for (sig, group, variant, size, n) in [
        ("-TERM", false, "shm-counter", "--increments", "100000000"),
        ("-INT", false, "ipc-channel", "--messages", "2000000"),
        ("-INT", true, "pipe", "--messages", "20000000"),
    ] {
        let parent = start(&["--variant", variant, size, n]);
        wait_for_workers(parent.id(), 1);
        sleep(Duration::from_millis(300));
        let target = if group {
            format!("-{}", parent.id())
        } else {
            parent.id().to_string()
        };
        let status = Command::new("kill")
            .args([sig, "--", &target])
            .status()
            .unwrap();
        assert!(status.success(), "kill {sig} {target}");
        let output = finish(parent);
        assert_eq!(
            output.status.code(),
            Some(130),
            "{sig}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("interrupted"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn kill_9_of_the_parent_ends_the_children_and_leaks_no_segment() {
    let mut run = start(&["--variant", "shm-counter", "--increments", "200000000"]);
    let pid = run.id();
    wait_for_workers(pid, 1);
    // A segment never has a name, so none may show in /dev/shm at any moment.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !segments_of(pid).is_empty() {
        assert!(
            Instant::now() < deadline,
            "a segment has a name in /dev/shm"
        );
        sleep(Duration::from_millis(10));
    }
    signal(pid, "-9");
    run.parent.wait().expect("the parent is reaped");
    // The children asked the kernel for SIGKILL when their parent dies (PR_SET_PDEATHSIG).
    let deadline = Instant::now() + Duration::from_secs(5);
    while !workers_of(pid).is_empty() && Instant::now() < deadline {
        sleep(Duration::from_millis(20));
    }
    assert_nothing_left(pid);
}

#[test]
fn a_run_that_would_take_hours_is_refused_with_how_long() {
    let err = assert_usage_error(
        LESSON,
        &[
            "--variant",
            "shm-counter",
            "--workers",
            "1024",
            "--increments",
            "1000000000",
        ],
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "shm-counter with 1 024 processes × 1 000 000 000 increments would take about"
        ),
        "{err}"
    );
    assert!(err.contains("pass --increments"), "{err}");
}

#[test]
fn the_python_twin_runs_and_is_correct() {
    let sizes = [
        "--messages",
        "300",
        "--bytes",
        "64",
        "--increments",
        "300",
        "--elements",
        "1000",
        "--workers",
        "2",
    ];
    let rows = run_python_twin("queue_ipc.py", &sizes);
    assert_eq!(rows.len(), 5, "{rows:?}");
    let mut pairs: Vec<&str> = rows
        .iter()
        .map(|r| r["pairs_with"].as_str().unwrap())
        .collect();
    pairs.sort_unstable();
    assert_eq!(
        pairs,
        [
            "ipc-channel",
            "pipe",
            "pipe-per-message",
            "shm-array",
            "shm-counter-locked"
        ]
    );
    for r in &rows {
        assert_eq!(r["lesson"], LESSON);
        assert_eq!(r["correct"], true, "{r}");
    }
    // Each expected value again, from the sizes given above.
    for (variant, expected) in [
        ("ipc-channel", 300),
        ("pipe", 300),
        ("pipe-per-message", 300),
        ("shm-counter-locked", 2 * 300),
        ("shm-array", 1000 * 999 / 2),
    ] {
        let r = rows
            .iter()
            .find(|r| r["pairs_with"] == variant)
            .expect("a row for every variant");
        assert_eq!(r["expected"], expected, "{r}");
        assert_eq!(r["result"], expected, "{r}");
    }
    // Like for like: at the same sizes, each twin row has the mechanism and the items of the
    // Rust row it names, unless it says it is deliberately across mechanisms.
    let rust = run_json(LESSON, &sizes);
    for r in &rows {
        let paired = row(&rust, r["pairs_with"].as_str().unwrap());
        if r["cross_mechanism"] == true {
            assert_ne!(r["mechanism"], paired["mechanism"], "{r}\n{paired}");
        } else {
            assert_eq!(r["mechanism"], paired["mechanism"], "{r}\n{paired}");
        }
        assert_eq!(r["items"], paired["items"], "{r}\n{paired}");
    }
}
