//! What every end-to-end test needs: find a lesson's binary, run it, read its JSON lines, and
//! check the project's exit-status conventions.

#![allow(dead_code)] // Each lesson's module uses the helpers it needs.

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The directory cargo put this build's binaries in (`target/debug` for `cargo test`).
fn bin_dir() -> PathBuf {
    // This test binary lives in `target/<profile>/deps/`; the lesson binaries one level up.
    let exe = std::env::current_exe().expect("the test binary knows its own path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary is in target/<profile>/deps")
        .to_path_buf()
}

/// The path of lesson binary `name`, built by `cargo build --workspace`.
pub fn bin_path(name: &str) -> PathBuf {
    let path = bin_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace` (or `just test`) before `cargo test`",
        path.display()
    );
    path
}

/// A command running lesson binary `name`, with a generous timeout so a hang fails the test
/// instead of the whole run.
pub fn bin(name: &str) -> Command {
    let mut cmd = Command::new(bin_path(name));
    cmd.timeout(std::time::Duration::from_secs(120));
    cmd
}

/// Every stdout line of `output` parsed as a JSON object.
pub fn json_rows(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// Runs `name --json args...`, requires exit status 0, and returns the JSON rows.
pub fn run_json(name: &str, args: &[&str]) -> Vec<Value> {
    let output = bin(name)
        .arg("--json")
        .args(args)
        .output()
        .expect("the binary starts");
    assert!(
        output.status.success(),
        "{name} {args:?} exited with {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = json_rows(&output);
    for row in &rows {
        assert_design_fields(row);
    }
    rows
}

/// Checks that `row` carries every field DESIGN.md promises scripts.
pub fn assert_design_fields(row: &Value) {
    for key in [
        "lesson", "variant", "workers", "items", "expected", "result", "correct", "wall_s", "per_s",
    ] {
        assert!(row.get(key).is_some(), "field {key} missing from {row}");
    }
}

/// The row of `variant` in `rows`.
pub fn row<'a>(rows: &'a [Value], variant: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["variant"] == variant)
        .unwrap_or_else(|| panic!("no row for {variant} in {rows:?}"))
}

/// Runs `name args...` and requires the bad-input convention: exit status 2, one short line on
/// stderr naming the problem, no panic.
pub fn assert_usage_error(name: &str, args: &[&str]) -> String {
    let output = bin(name).args(args).output().expect("the binary starts");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{name} {args:?}: want exit 2, got {}; stderr: {stderr}",
        output.status
    );
    assert!(
        !stderr.contains("panicked"),
        "{name} {args:?} panicked: {stderr}"
    );
    let first = stderr.lines().next().unwrap_or("");
    assert!(
        first.starts_with("error:"),
        "{name} {args:?}: stderr should start with an error line: {stderr}"
    );
    stderr
}

/// Runs every case of bad input against `name` and requires, for each, the bad-input
/// convention of [`assert_usage_error`] and an error that names the flag or the value at fault.
pub fn assert_usage_errors(name: &str, cases: &[&[&str]]) {
    for args in cases {
        let stderr = assert_usage_error(name, args);
        assert!(
            args.iter().any(|a| stderr.contains(a)),
            "{name} {args:?}: the error should name the flag or value: {stderr}"
        );
    }
}

/// Runs the Python twin `examples/python/<script> --json args...` with `python3`, requires exit
/// status 0, and returns its rows, each checked for the design fields and a `pairs_with`.
pub fn run_python_twin(script: &str, args: &[&str]) -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/python")
        .join(script);
    let output = std::process::Command::new("python3")
        .arg(&path)
        .arg("--json")
        .args(args)
        .output()
        .expect("python3 starts");
    assert!(
        output.status.success(),
        "{script} {args:?} exited with {}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let rows = json_rows(&output);
    assert!(!rows.is_empty(), "{script} printed no rows");
    for row in &rows {
        assert_design_fields(row);
        assert!(
            row["pairs_with"].is_string(),
            "{script}: no pairs_with in {row}"
        );
    }
    rows
}

/// Field `key` of `row` as a whole number; panics naming the row if it is not one.
pub fn u64_of(row: &Value, key: &str) -> u64 {
    row[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} in {row}"))
}

/// The `variant` of every row, in order.
pub fn variant_names(rows: &[Value]) -> Vec<&str> {
    rows.iter()
        .map(|r| {
            r["variant"]
                .as_str()
                .unwrap_or_else(|| panic!("no variant in {r}"))
        })
        .collect()
}

/// Sends SIGINT (Ctrl-C) to `child` and waits for it to exit, at most 30 s: a handler that never
/// fires fails the test (the child killed and reaped) instead of hanging the suite.
pub fn interrupt_and_wait(child: &mut std::process::Child, what: &str) -> std::process::ExitStatus {
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    assert!(
        sent.expect("kill runs").success(),
        "{what}: kill -INT failed"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: no exit within 30 s of SIGINT");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
