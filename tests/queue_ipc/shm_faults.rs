//! `queue-ipc`'s shared memory under load and under faults: hundreds of children at the
//! starting gun, a lock holder killed mid-section, the parent killed or interrupted while a
//! segment is being made, and negative sizes.

use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::{
    DIES_AFTER, LESSON, assert_nothing_left, finish, start, start_with, stderr, wait_for_workers,
    workers_of,
};
use crate::support::{assert_usage_error, json_rows};

/// Makes every `shm-counter-locked` child die by SIGKILL holding the lock, after this many
/// increments.
const DIES_HOLDING_LOCK: &str = "QUEUE_IPC_CHILD_DIES_HOLDING_LOCK";

#[test]
fn hundreds_of_children_count_right_and_quietly() {
    // 1 024 is the most `--workers` accepts.
    for (variant, workers) in [("shm-counter-locked", 1024u64), ("shm-counter", 256)] {
        let n = workers.to_string();
        let args = ["--json", "--variant", variant, "--workers", &n];
        let output = finish(start(&[&args[..], &["--increments", "1000"]].concat()));
        let err = stderr(&output);
        assert!(output.status.success(), "{variant} at {workers}: {err}");
        assert!(err.is_empty(), "{variant} at {workers}: {err}");
        let rows = json_rows(&output);
        assert_eq!(rows[0]["result"], workers * 1000, "{}", rows[0]);
        assert_eq!(rows[0]["correct"], true, "{}", rows[0]);
    }
}

#[test]
fn a_failure_among_many_children_is_one_short_line() {
    let args = ["--variant", "shm-counter", "--workers", "64"];
    let output = finish(start_with(
        &[&args[..], &["--increments", "20000"]].concat(),
        &[(DIES_AFTER, "100")],
    ));
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    // The first failure, not one entry per child.
    assert_eq!(err.matches("child ").count(), 1, "{err}");
    assert!(err.contains("63 others were stopped"), "{err}");
}

#[test]
fn a_holder_killed_mid_section_is_taken_over_and_counted() {
    for workers in ["2", "8"] {
        let args = [
            "--json",
            "--variant",
            "shm-counter-locked",
            "--workers",
            workers,
        ];
        let output = finish(start_with(
            &[&args[..], &["--increments", "20000"]].concat(),
            &[(DIES_HOLDING_LOCK, "500")],
        ));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("killed by SIGKILL"), "{err}");
        assert!(err.contains("taken over from a dead holder"), "{err}");
        // The dead holder's 500, and at most 500 from each child stopped after it.
        let rows = json_rows(&output);
        let counted = rows[0]["result"].as_u64().unwrap();
        let workers: u64 = workers.parse().unwrap();
        assert!((500..=500 * workers).contains(&counted), "{}", rows[0]);
        let (counted, expected) = (fmt(counted), fmt(workers * 20_000));
        let says = format!("counted {counted} of {expected} increments");
        assert!(err.contains(&says), "{err}");
    }
}

/// Groups digits as the binary prints counts: 1 500 -> "1 500".
fn fmt(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The parent killed with SIGKILL, or the group interrupted as Ctrl-C does, while a 1 GiB array
/// is being made and filled: at no moment may a name be left in `/dev/shm`.
#[test]
fn no_moment_of_a_kill_leaves_shared_memory_behind() {
    let args = ["--variant", "shm-array", "--elements", "134217728"];
    // None: as soon as the child exists; then fixed moments into the run.
    let moments = [None, Some(50), Some(300), Some(800)];
    for (sig, moment) in moments
        .map(|m| ("-9", m))
        .into_iter()
        .chain([("-INT", None), ("-INT", Some(300))])
    {
        let mut run = start(&args);
        let pid = run.id();
        match moment {
            None => drop(wait_for_workers(pid, 1)),
            Some(ms) => sleep(Duration::from_millis(ms)),
        }
        if sig == "-9" {
            // The run may have ended already at a late moment: then there is nothing to kill.
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            run.parent.wait().expect("the parent is reaped");
            let deadline = Instant::now() + Duration::from_secs(5);
            while !workers_of(pid).is_empty() && Instant::now() < deadline {
                sleep(Duration::from_millis(20));
            }
            assert_nothing_left(pid);
        } else {
            let group = format!("-{pid}");
            let status = Command::new("kill").args([sig, "--", &group]).status();
            assert!(status.is_ok_and(|s| s.success()), "kill {sig} -- {group}");
            let output = finish(run);
            assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
        }
    }
}

#[test]
fn negative_sizes_are_refused_with_the_range() {
    for flag in [
        "--messages",
        "--bytes",
        "--increments",
        "--elements",
        "--workers",
    ] {
        let err = assert_usage_error(LESSON, &[flag, "-1"]);
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.contains("must be a whole number from 1 to"),
            "{flag}: {err}"
        );
    }
}
