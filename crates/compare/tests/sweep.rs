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

#[test]
fn pages_are_drawn_again_from_the_record_of_full_runs_without_running_them() {
    let dir = tempfile::tempdir().unwrap();
    let charts = dir.path().join("svg");
    std::fs::create_dir_all(&charts).unwrap();
    let line = |series: &str, x: u64, y: f64| {
        format!(
            "{{\"lesson\":\"race-lock\",\"chart\":\"race-lock\",\"series\":\"{series}\",\
             \"language\":\"Rust\",\"mechanism\":\"threads\",\"x_name\":\"workers\",\"x\":{x},\
             \"y_name\":\"per_s\",\"y\":{y},\"y_min\":{y},\"y_max\":{y},\"runs\":3,\
             \"machine\":\"a test machine\",\"parallelism\":2.0}}\n"
        )
    };
    let points: String = [1, 2, 4, 8]
        .iter()
        .map(|&x| line("Rust mutex", x, 1e6 / x as f64) + &line("Rust atomic", x, 5e5))
        .collect();
    let results = dir.path().join("results.md");
    std::fs::write(&results, "<!-- sweep:begin -->\n<!-- sweep:end -->\n").unwrap();
    let redraw = || {
        Command::new(env!("CARGO_BIN_EXE_sweep"))
            .arg("--redraw")
            .arg("--svg-into")
            .arg(&charts)
            .arg("--book-into")
            .arg(dir.path().join("book"))
            .arg("--write-into")
            .arg(&results)
            .output()
            .unwrap()
    };
    // Without a full run's record there is nothing to draw.
    let out = redraw();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    std::fs::write(charts.join("sweep.jsonl"), points).unwrap();
    // Eight cores, whatever the machine drawing it has: the pages say the run's machine.
    let origin = r#"{"race-lock": {"date":"2026-01-02","command":"just sweep --lesson race-lock",
                    "machine":"a test machine","seconds":120.0,"cores":8,"threads":"many"}}"#;
    std::fs::write(charts.join("origins.json"), origin).unwrap();
    let out = redraw();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(charts.join("race-lock.svg").exists());
    let page = std::fs::read_to_string(dir.path().join("book/sweep-race-lock.md")).unwrap();
    assert!(
        page.starts_with("Measured on 2026-01-02, a test machine"),
        "{page}"
    );
    assert!(
        page.contains("Rust atomic's per_s rises above Rust mutex's from workers = 4"),
        "{page}"
    );
    assert!(page.contains("2.0 of the 8 cores free"), "{page}");
    let section = std::fs::read_to_string(&results).unwrap();
    assert!(section.contains("### race-lock"), "{section}");
    assert!(
        section.contains("`just sweep --lesson race-lock` (2.0 min)"),
        "{section}"
    );
}
