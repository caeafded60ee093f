//! The side-by-side table, for a terminal and as Markdown: like-for-like pairs first, then the
//! pairs compared across mechanisms on purpose, apart.

use serde_json::Value;
use timing::{fmt_ns, fmt_rate};

use crate::pair::{Pair, as_expected, number};

const HEADER: [&str; 10] = [
    "lesson",
    "python",
    "rust",
    "mechanism",
    "python wall (rate)",
    "rust wall (rate)",
    "rust speedup",
    "p99 python / rust",
    "python check",
    "rust check",
];

/// The cells of one table line.
fn cells(pair: &Pair) -> [String; 10] {
    let check = |row: &Value| {
        if row["correct"].as_bool() == Some(true) {
            "ok".to_string()
        } else if as_expected(row) {
            "broken, as meant".to_string()
        } else {
            "WRONG".to_string()
        }
    };
    let (py_rate, rs_rate) = pair.rates();
    let side = |row: &Value, rate: f64| {
        format!(
            "{} ({})",
            fmt_ns(number(row, "wall_s") * 1e9),
            fmt_rate(rate)
        )
    };
    let mechanism = |row: &Value| row["mechanism"].as_str().unwrap_or("?").to_string();
    [
        pair.lesson.clone(),
        pair.python_variant().to_string(),
        pair.rust_variant().to_string(),
        if pair.cross_mechanism {
            format!("{} / {}", mechanism(&pair.python), mechanism(&pair.rust))
        } else {
            mechanism(&pair.rust)
        },
        side(&pair.python, py_rate),
        side(&pair.rust, rs_rate),
        format!("{:.1}x", pair.speedup()),
        p99s(pair),
        check(&pair.python),
        check(&pair.rust),
    ]
}

/// "1.20 ms / 350 µs": the Python and the Rust p99 latency, or "-" where a side measured none.
fn p99s(pair: &Pair) -> String {
    match (pair.python["p99_ns"].as_f64(), pair.rust["p99_ns"].as_f64()) {
        (Some(py), Some(rs)) => format!("{} / {}", fmt_ns(py), fmt_ns(rs)),
        _ => "-".to_string(),
    }
}

/// The like-for-like pairs, then the cross-mechanism ones.
fn split(pairs: &[Pair]) -> (Vec<&Pair>, Vec<&Pair>) {
    pairs.iter().partition(|p| !p.cross_mechanism)
}

/// Both tables as Markdown, for the README: like for like, then across mechanisms under a
/// heading of its own.
pub fn markdown_table(pairs: &[Pair]) -> String {
    let table = |pairs: &[&Pair]| {
        let mut out = format!(
            "| {} |\n|{}\n",
            HEADER.join(" | "),
            "---|".repeat(HEADER.len())
        );
        for pair in pairs {
            out.push_str(&format!("| {} |\n", cells(pair).join(" | ")));
        }
        out
    };
    let (same, cross) = split(pairs);
    let mut out = table(&same);
    if !cross.is_empty() {
        out.push_str(
            "\nAcross mechanisms, on purpose (the tutorial's processes beside Rust's threads, \
             where Rust needs no processes for the job); their ratio includes process start-up:\n\n",
        );
        out.push_str(&table(&cross));
    }
    out
}

/// Both tables for a terminal, columns aligned.
pub fn text_table(pairs: &[Pair]) -> String {
    let (same, cross) = split(pairs);
    let mut out = aligned(&same);
    if !cross.is_empty() {
        out.push_str("\nacross mechanisms, on purpose:\n");
        out.push_str(&aligned(&cross));
    }
    out
}

fn aligned(pairs: &[&Pair]) -> String {
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
