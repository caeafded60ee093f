//! Side by side: every Python twin in `examples/python/` and its Rust lesson, run on the same
//! sizes on the same machine in one run, paired row by row, with the ratio.
//!
//! Each twin prints, with `--json`, the same fields as the Rust rows plus `"pairs_with"`: the
//! Rust variant it answers. This crate runs both (see [`plan`]), reads their JSON lines
//! ([`parse_rows`]), pairs them ([`pair_rows`]) and prints one table ([`text_table`],
//! [`markdown_table`]) and a chart ([`chart::write_svg`]). It asserts no timing: a run fails only
//! when a result is wrong, which both sides check against an independent number.
//!
//! Run it with `just compare` (or `cargo build --release --workspace && cargo run --release -p
//! compare`); `--quick` runs small sizes.

pub mod broker;
pub mod chart;
pub mod machine;
pub mod plan;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;
use timing::{fmt_ns, fmt_rate};

/// One Python row and the Rust row it answers.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The lesson both rows belong to.
    pub lesson: String,
    /// The Python twin's row.
    pub python: Value,
    /// The Rust binary's row.
    pub rust: Value,
}

impl Pair {
    /// The Python variant's name.
    pub fn python_variant(&self) -> &str {
        self.python["variant"].as_str().unwrap_or("?")
    }

    /// The Rust variant's name.
    pub fn rust_variant(&self) -> &str {
        self.rust["variant"].as_str().unwrap_or("?")
    }

    /// How many times faster the Rust row did its work: the ratio of work rates (items per
    /// second), which stays fair if the two sides did different amounts; the ratio of wall
    /// times where a side reports no rate.
    pub fn speedup(&self) -> f64 {
        let (py_rate, rs_rate) = (number(&self.python, "per_s"), number(&self.rust, "per_s"));
        if py_rate > 0.0 && rs_rate > 0.0 {
            return rs_rate / py_rate;
        }
        let (py_wall, rs_wall) = (number(&self.python, "wall_s"), number(&self.rust, "wall_s"));
        if rs_wall > 0.0 {
            py_wall / rs_wall
        } else {
            f64::NAN
        }
    }

    /// Whether both rows behaved as their lesson says (correct, or deliberately broken).
    pub fn both_as_expected(&self) -> bool {
        as_expected(&self.python) && as_expected(&self.rust)
    }
}

/// Whether a row is correct, or is a deliberately broken variant (`"expected_failure": true`).
pub fn as_expected(row: &Value) -> bool {
    row["correct"].as_bool() == Some(true) || row["expected_failure"].as_bool() == Some(true)
}

fn number(row: &Value, key: &str) -> f64 {
    row[key].as_f64().unwrap_or(0.0)
}

/// Every non-empty line of `text` as a JSON object with at least `variant`, `correct` and `wall_s`.
pub fn parse_rows(text: &str) -> Result<Vec<Value>> {
    let mut rows = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let row: Value = serde_json::from_str(line)
            .with_context(|| format!("line {} is not JSON: {line}", i + 1))?;
        for key in ["variant", "correct", "wall_s"] {
            if row.get(key).is_none() {
                bail!("line {} has no \"{key}\": {line}", i + 1);
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Pairs each Python row with the Rust row its `pairs_with` names. Returns the pairs and a
/// description of each Python row that found no partner.
pub fn pair_rows(lesson: &str, python: &[Value], rust: &[Value]) -> (Vec<Pair>, Vec<String>) {
    let mut pairs = Vec::new();
    let mut unmatched = Vec::new();
    for py in python {
        let wanted = py["pairs_with"].as_str().unwrap_or("");
        match rust.iter().find(|r| r["variant"].as_str() == Some(wanted)) {
            Some(rs) => pairs.push(Pair {
                lesson: lesson.to_string(),
                python: py.clone(),
                rust: rs.clone(),
            }),
            None => unmatched.push(format!(
                "{lesson}: Python {} pairs with Rust \"{wanted}\", which did not run",
                py["variant"]
            )),
        }
    }
    (pairs, unmatched)
}

/// The cells of one table line: lesson, both variants, both wall times and rates, the ratio,
/// both p99 latencies where both sides measured one, and both checks.
fn cells(pair: &Pair) -> [String; 9] {
    let check = |row: &Value| {
        if row["correct"].as_bool() == Some(true) {
            "ok".to_string()
        } else if as_expected(row) {
            "broken, as meant".to_string()
        } else {
            "WRONG".to_string()
        }
    };
    let side = |row: &Value| {
        format!(
            "{} ({})",
            fmt_ns(number(row, "wall_s") * 1e9),
            fmt_rate(number(row, "per_s"))
        )
    };
    [
        pair.lesson.clone(),
        pair.python_variant().to_string(),
        pair.rust_variant().to_string(),
        side(&pair.python),
        side(&pair.rust),
        format!("{:.1}x", pair.speedup()),
        p99s(pair),
        check(&pair.python),
        check(&pair.rust),
    ]
}

/// "1.20 ms / 350 µs": the Python and the Rust p99 latency (for `async-mixed`, the heartbeat's
/// lateness), or "-" where a side measured none.
fn p99s(pair: &Pair) -> String {
    match (pair.python["p99_ns"].as_f64(), pair.rust["p99_ns"].as_f64()) {
        (Some(py), Some(rs)) => format!("{} / {}", fmt_ns(py), fmt_ns(rs)),
        _ => "-".to_string(),
    }
}

const HEADER: [&str; 9] = [
    "lesson",
    "python",
    "rust",
    "python wall (rate)",
    "rust wall (rate)",
    "rust speedup",
    "p99 python / rust",
    "python check",
    "rust check",
];

/// The table as Markdown, for the README.
pub fn markdown_table(pairs: &[Pair]) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        HEADER.join(" | "),
        "---|".repeat(HEADER.len())
    );
    for pair in pairs {
        out.push_str(&format!("| {} |\n", cells(pair).join(" | ")));
    }
    out
}

/// The table for a terminal, columns aligned.
pub fn text_table(pairs: &[Pair]) -> String {
    let mut lines: Vec<Vec<String>> = vec![HEADER.iter().map(|h| h.to_string()).collect()];
    lines.extend(pairs.iter().map(|p| cells(p).to_vec()));
    let widths: Vec<usize> = (0..HEADER.len())
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in &lines {
        let padded: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Recorded from real runs of a twin and its binary, trimmed to the fields that matter.
    const PYTHON: &str = r#"
{"lesson":"race-lock","variant":"plus-equals","workers":10,"items":10000,"expected":10000,"result":10000,"correct":true,"wall_s":0.010,"per_s":1000000.0,"pairs_with":"racy"}
{"lesson":"race-lock","variant":"add-one-call","workers":10,"items":10000,"expected":10000,"result":5210,"correct":false,"expected_failure":true,"wall_s":0.020,"per_s":500000.0,"pairs_with":"racy"}
{"lesson":"race-lock","variant":"lock","workers":10,"items":10000,"expected":10000,"result":10000,"correct":true,"wall_s":0.002,"per_s":5000000.0,"p99_ns":12000,"pairs_with":"mutex"}
{"lesson":"race-lock","variant":"semaphore","workers":10,"items":10000,"expected":10000,"result":10000,"correct":true,"wall_s":0.002,"per_s":5000000.0,"pairs_with":"no-such-variant"}
"#;
    const RUST: &str = r#"
{"lesson":"race-lock","variant":"racy","workers":10,"items":10000,"expected":10000,"result":6588,"correct":false,"expected_failure":true,"wall_s":0.001,"per_s":10000000.0}
{"lesson":"race-lock","variant":"mutex","workers":10,"items":10000,"expected":10000,"result":10000,"correct":true,"wall_s":0.0002,"per_s":50000000.0,"p99_ns":900}
"#;

    #[test]
    fn rows_pair_by_pairs_with() {
        let python = parse_rows(PYTHON).unwrap();
        let rust = parse_rows(RUST).unwrap();
        let (pairs, unmatched) = pair_rows("race-lock", &python, &rust);
        assert_eq!(pairs.len(), 3);
        assert_eq!(pairs[2].python_variant(), "lock");
        assert_eq!(pairs[2].rust_variant(), "mutex");
        assert_eq!(unmatched.len(), 1);
        assert!(unmatched[0].contains("no-such-variant"));
    }

    #[test]
    fn speedup_is_the_ratio_of_rates() {
        let python = parse_rows(PYTHON).unwrap();
        let rust = parse_rows(RUST).unwrap();
        let (pairs, _) = pair_rows("race-lock", &python, &rust);
        assert!((pairs[2].speedup() - 10.0).abs() < 1e-9);
        assert!((pairs[0].speedup() - 10.0).abs() < 1e-9);
    }

    #[test]
    fn deliberate_failures_are_as_expected_and_wrong_rows_are_not() {
        let python = parse_rows(PYTHON).unwrap();
        let rust = parse_rows(RUST).unwrap();
        let (pairs, _) = pair_rows("race-lock", &python, &rust);
        assert!(pairs.iter().all(Pair::both_as_expected));
        let wrong: Value =
            serde_json::from_str(r#"{"variant":"v","correct":false,"wall_s":1.0}"#).unwrap();
        assert!(!as_expected(&wrong));
    }

    #[test]
    fn tables_have_a_line_per_pair() {
        let python = parse_rows(PYTHON).unwrap();
        let rust = parse_rows(RUST).unwrap();
        let (pairs, _) = pair_rows("race-lock", &python, &rust);
        let md = markdown_table(&pairs);
        assert_eq!(md.lines().count(), 2 + pairs.len());
        assert!(md.contains("| race-lock | lock | mutex |"));
        assert!(md.contains("10.0x | 12.0 µs / 900 ns |"), "{md}");
        assert!(md.contains("10.0x | - |"), "{md}");
        let text = text_table(&pairs);
        assert!(text.lines().nth(2).unwrap().contains("broken, as meant"));
    }

    #[test]
    fn a_line_that_is_not_a_row_is_an_error() {
        assert!(parse_rows("Traceback (most recent call last):").is_err());
        assert!(parse_rows(r#"{"variant":"x"}"#).is_err());
    }
}
