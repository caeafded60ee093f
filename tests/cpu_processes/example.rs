//! The copyable example, `examples/cpu_processes.rs`: a spawn that fails after others succeeded
//! leaves no child behind.

use std::path::PathBuf;
use std::process::Command;

/// Makes itself a child subreaper (so whatever the example leaves behind is re-parented here
/// when it exits, instead of to pid 1), runs the example with at most `argv[1]` open files,
/// then waits for every process that was re-parented to it, and prints how many there were.
const SUBREAPER: &str = r#"
import ctypes, os, resource, subprocess, sys
PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
limit = int(sys.argv[1])
lower = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
run = subprocess.run(sys.argv[2:], preexec_fn=lower, stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE, text=True)
sys.stderr.write(run.stderr)
orphans = 0
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
    orphans += 1
print(run.returncode, orphans)
"#;

/// The example's binary, which `cargo test` builds beside the test binary.
fn example_path() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its own path");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary is in target/<profile>/deps")
        .join("examples/cpu_processes");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --example cpu_processes` first",
        path.display()
    );
    path
}

#[test]
fn a_failed_spawn_leaves_no_earlier_child_behind() {
    // Ten open files: stdin, stdout, stderr and room for a few children's pipes, so the first
    // spawns succeed and a later one fails with EMFILE.
    let output = Command::new("python3")
        .args(["-c", SUBREAPER, "10"])
        .arg(example_path())
        .args(["--workers", "20", "--n", "1000"])
        .output()
        .expect("python3 starts");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<i64> = stdout
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    let [code, orphans] = numbers[..] else {
        panic!("the wrapper printed {stdout:?}; stderr: {stderr}");
    };
    assert_ne!(code, 0, "the run must fail: {stderr}");
    assert_eq!(orphans, 0, "children left unwaited: {stderr}");
    // A later spawn failed, so some children were running when it did.
    let started: u64 = stderr
        .split("starting worker ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no failed spawn named: {stderr}"));
    assert!(
        started > 0,
        "the first spawn failed, not a later one: {stderr}"
    );
    assert!(stderr.contains("Too many open files"), "{stderr}");
}
