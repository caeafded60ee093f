//! `queue-ipc`'s messages of `--bytes` each: the shared-memory ring (shm-ring) at small and at
//! 1 MiB messages, its child killed mid-stream, its bad sizes; ipc-channel and the Python
//! twin's queue carrying the same payloads.

use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

use serde_json::Value;

use super::{DIES_AFTER, LESSON, finish, start, start_with, stderr, wait_for_workers};
use crate::support::{assert_usage_error, json_rows, run_python_twin};

/// Runs `--variant <variant> --bytes <bytes> --messages <messages>`, requires it to succeed
/// and leave nothing behind, and returns its row.
fn one_row(variant: &str, bytes: &str, messages: &str) -> Value {
    let args = [
        "--json",
        "--variant",
        variant,
        "--bytes",
        bytes,
        "--messages",
        messages,
    ];
    let output = finish(start(&args));
    assert!(
        output.status.success(),
        "{variant} {bytes}: {}",
        stderr(&output)
    );
    let rows = json_rows(&output);
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows[0].clone()
}

#[test]
fn shm_ring_counts_every_message_at_16_bytes_and_at_1_mib() {
    // 5 000 small messages go round the 1 024-slot ring five times; 40 of 1 MiB round its
    // four slots ten times.
    for (bytes, messages) in [(16u64, 5000u64), (1 << 20, 40)] {
        let r = one_row("shm-ring", &bytes.to_string(), &messages.to_string());
        assert_eq!(r["correct"], true, "{r}");
        assert_eq!(
            (&r["expected"], &r["result"]),
            (&messages.into(), &messages.into())
        );
        assert_eq!(r["payload_bytes"], bytes, "{r}");
        assert_eq!(r["mechanism"], "shared-memory", "{r}");
        assert!(
            r["p50_ns"].is_u64() && r["bytes_per_s"].as_f64().unwrap() > 0.0,
            "{r}"
        );
    }
}

#[test]
fn ipc_channel_carries_64_kib_payloads_and_says_so() {
    let r = one_row("ipc-channel", "65536", "300");
    assert_eq!(r["correct"], true, "{r}");
    assert_eq!((&r["expected"], &r["result"]), (&300.into(), &300.into()));
    assert_eq!(r["payload_bytes"], 65536, "{r}");
    assert!(
        r["note"].as_str().unwrap().contains("65536 B payloads"),
        "{r}"
    );
}

#[test]
fn a_ring_child_dying_mid_stream_is_reported_and_leaves_nothing() {
    // Dying after 500 of 2 000 small messages, and after 3 of 20 of 1 MiB (the ring holds 4).
    for (bytes, messages, after, words) in [
        ("4096", "2000", "500", "received 500 of 2 000 messages"),
        ("1048576", "20", "3", "received 3 of 20 messages"),
    ] {
        let args = [
            "--json",
            "--variant",
            "shm-ring",
            "--bytes",
            bytes,
            "--messages",
            messages,
        ];
        let output = finish(start_with(&args, &[(DIES_AFTER, after)]));
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{bytes}: {err}");
        assert!(err.contains("killed by SIGKILL"), "{err}");
        assert!(err.contains(words), "{err}");
        let rows = json_rows(&output);
        assert_eq!(rows[0]["correct"], false, "{}", rows[0]);
        assert_eq!(rows[0]["result"].to_string(), after, "{}", rows[0]);
    }
}

#[test]
fn ctrl_c_during_a_ring_run_exits_130_and_leaves_nothing() {
    let parent = start(&["--variant", "shm-ring", "--messages", "50000000"]);
    wait_for_workers(parent.id(), 1);
    sleep(Duration::from_millis(300));
    // The whole process group, as a terminal's Ctrl-C signals it.
    let group = format!("-{}", parent.id());
    let status = Command::new("kill").args(["-INT", "--", &group]).status();
    assert!(status.expect("kill runs").success(), "kill -INT {group}");
    let output = finish(parent);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
}

#[test]
fn bad_sizes_for_the_ring_are_one_line_and_exit_2() {
    for args in [
        &["--variant", "shm-ring", "--bytes", "0"][..],
        &["--variant", "shm-ring", "--bytes", "16777217"],
        &["--variant", "shm-ring", "--messages", "0"],
    ] {
        // One error line (clap adds its pointer to --help after it), naming the size.
        let err = assert_usage_error(LESSON, args);
        assert!(
            err.lines().next().unwrap().contains(args[2]),
            "{args:?}: {err}"
        );
        // The variant exists: the error is about the size, not the name.
        assert!(!err.contains("shm-ring"), "{args:?}: {err}");
    }
}

#[test]
fn the_python_queue_carries_the_bytes_it_is_given() {
    let args = ["--variant", "queue", "--messages", "200", "--bytes", "4096"];
    let rows = run_python_twin("queue_ipc.py", &args);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(
        (&r["pairs_with"], &r["correct"]),
        (&"ipc-channel".into(), &true.into()),
        "{r}"
    );
    assert_eq!(
        (&r["result"], &r["payload_bytes"]),
        (&200.into(), &4096.into()),
        "{r}"
    );
}
