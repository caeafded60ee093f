//! What the comparison ran on, so a table is never read without its machine.

use std::process::Command;

/// "2 cores, Intel(R) Xeon(R) ..., Linux 6.1, Python 3.11.7": cores this process may use, the CPU
/// model, the kernel and the Python that ran the twins.
pub fn describe(python: &str) -> String {
    let cores = timing::cores();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!("Linux {}", k.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_string());
    let python_version = Command::new(python)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| format!("{python} (version unknown)"));
    format!("{cores} cores, {cpu}, {kernel}, {python_version}")
}

/// How many CPUs this process got just now: two threads spinning side by side for a few
/// milliseconds, their work against one thread's alone (1.0 to `cores`, one decimal). Two vCPUs
/// of a virtual machine are sometimes one core, so a speedup is read beside this.
pub fn parallelism() -> f64 {
    let span = std::time::Duration::from_millis(40);
    let alone = spin(span);
    let cores = timing::cores().max(1);
    let together: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..cores).map(|_| s.spawn(|| spin(span))).collect();
        // A spinning thread cannot panic; if one did, its work counts as none.
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    let ratio = together as f64 / alone.max(1) as f64;
    (ratio.clamp(1.0, cores as f64) * 10.0).round() / 10.0
}

/// The sentence on the CPUs the probe found before each side ran: its range over the run, and
/// the parallel `cpu-processes` variants whose side got less than three quarters of the cores
/// the machine has, whose gain over sequential the machine capped, not the language. `None`
/// when no row carries the probe's figure.
pub fn parallelism_sentence(pairs: &[crate::Pair]) -> Option<String> {
    let found = |row: &serde_json::Value| row["parallelism"].as_f64();
    let all: Vec<f64> = pairs
        .iter()
        .flat_map(|p| [found(&p.python), found(&p.rust)])
        .flatten()
        .collect();
    let low = all.iter().copied().fold(f64::INFINITY, f64::min);
    let high = all.iter().copied().fold(0.0, f64::max);
    if all.is_empty() {
        return None;
    }
    let cores = timing::cores() as f64;
    let mut capped = Vec::new();
    let cpu_bound: Vec<&crate::Pair> = pairs
        .iter()
        .filter(|p| p.lesson == "cpu-processes")
        .collect();
    for pair in &cpu_bound {
        for (side, row, variant) in [
            ("Python", &pair.python, pair.python_variant()),
            ("Rust", &pair.rust, pair.rust_variant()),
        ] {
            let parallel = row["mechanism"] == "threads" || row["mechanism"] == "processes";
            if let Some(p) = found(row).filter(|p| parallel && *p < 0.75 * cores) {
                capped.push(format!("{side}'s `{variant}` ({p:.1})"));
            }
        }
    }
    let range = if (high - low).abs() < 0.05 {
        format!("{high:.1}")
    } else {
        format!("{low:.1} to {high:.1}")
    };
    let tail = if cpu_bound.is_empty() {
        String::new()
    } else if capped.is_empty() {
        format!(
            "; every parallel `cpu-processes` variant ran with at least three quarters of the \
             {cores} cores, so its speedup is the language's and the mechanism's"
        )
    } else {
        format!(
            "; it found under three quarters of the {cores} cores before {}: their gain over \
             sequential was capped by the machine at that moment, not by the language",
            capped.join(", ")
        )
    };
    Some(format!(
        "A probe just before each side (two spinning threads against one) found {range} CPUs \
         free{tail}."
    ))
}

/// Iterations of a small loop this thread gets through in `span`.
fn spin(span: std::time::Duration) -> u64 {
    let start = std::time::Instant::now();
    let mut count = 0u64;
    while start.elapsed() < span {
        for _ in 0..1_000 {
            count = std::hint::black_box(count + 1);
        }
    }
    count
}

/// Today's date in UTC, `YYYY-MM-DD`, from the system clock.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`), to avoid a date crate for one line of output.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parallel_variant_run_on_too_few_cpus_is_named_as_capped() {
        let pair = |variant: &str, py_cpus: f64, rs_cpus: f64| crate::Pair {
            lesson: "cpu-processes".into(),
            python: serde_json::json!({"variant": variant, "mechanism": "processes",
                                       "parallelism": py_cpus}),
            rust: serde_json::json!({"variant": variant, "mechanism": "processes",
                                     "parallelism": rs_cpus}),
            cross_mechanism: false,
        };
        let cores = timing::cores() as f64;
        let text = parallelism_sentence(&[pair("fork", 0.5 * cores, cores)]).unwrap();
        assert!(text.contains("Python's `fork`"), "{text}");
        assert!(!text.contains("Rust's `fork`"), "{text}");
        let text = parallelism_sentence(&[pair("fork", cores, cores)]).unwrap();
        assert!(text.contains("every parallel"), "{text}");
        let mut other = pair("lock", 1.0, 1.0);
        other.lesson = "race-lock".into();
        let text = parallelism_sentence(&[other]).unwrap();
        assert!(!text.contains("cpu-processes"), "{text}");
        assert_eq!(parallelism_sentence(&[]), None);
    }

    #[test]
    fn parallelism_is_between_one_and_the_cores() {
        let p = parallelism();
        assert!((1.0..=timing::cores() as f64).contains(&p), "{p}");
    }

    #[test]
    fn days_since_the_epoch_become_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_779), (2026, 11, 22));
    }
}
