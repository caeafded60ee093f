//! The sweep binary's launcher and its refusals, run as a user runs them.

use std::process::Command;

#[test]
fn the_launcher_passes_output_and_status_through_and_reports_the_peak() {
    let out = Command::new(env!("CARGO_BIN_EXE_sweep"))
        .args(["--launch", "sh", "-c", "echo row; echo oops >&2; exit 3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "row\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap();
    let kib: u64 = last
        .strip_prefix("sweep-launch: peak KiB ")
        .unwrap()
        .parse()
        .unwrap();
    assert!(kib > 0 && stderr.starts_with("oops"), "{stderr}");
}

#[test]
fn a_debug_build_and_an_unknown_lesson_are_refused_with_status_2() {
    // A debug build refuses any run; an optimised test run has no debug build to refuse, and
    // `--quick` there would be a real sweep.
    let debug: &[&[&str]] = if cfg!(debug_assertions) {
        &[&["--quick"]]
    } else {
        &[]
    };
    for args in debug
        .iter()
        .copied()
        .chain([&["--lesson", "no-such-lesson"][..]])
    {
        let out = Command::new(env!("CARGO_BIN_EXE_sweep"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}
