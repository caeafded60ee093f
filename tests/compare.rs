//! `compare`: it refuses to time debug builds.

use crate::support::assert_usage_error;

#[test]
fn debug_builds_are_refused_with_what_to_run_instead() {
    // `cargo test` runs the debug build of compare, beside the debug lesson binaries; in a
    // release test run the binaries are optimised and compare would run, so there is nothing
    // to refuse.
    if !cfg!(debug_assertions) {
        return;
    }
    let stderr = assert_usage_error("compare", &["--quick", "--lesson", "race-lock"]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("debug builds"), "{stderr}");
    assert!(stderr.contains("--release"), "{stderr}");
    assert!(stderr.contains("just compare"), "{stderr}");
}
