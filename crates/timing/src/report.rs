//! All the rows of one run, printed as a table for people or as JSON lines for scripts.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use crate::{Row, fmt_count, fmt_ns, fmt_rate};

/// The rows of one run of a lesson and the verdict the lesson draws from them.
#[derive(Debug, Clone)]
pub struct Report {
    lesson: String,
    rows: Vec<Row>,
    legend: Vec<String>,
    verdicts: Vec<String>,
}

impl Report {
    /// An empty report for `lesson`.
    pub fn new(lesson: impl Into<String>) -> Self {
        Self {
            lesson: lesson.into(),
            rows: Vec::new(),
            legend: Vec::new(),
            verdicts: Vec::new(),
        }
    }

    /// Adds a measured row.
    pub fn push(&mut self, row: Row) {
        self.rows.push(row);
    }

    /// Adds a line under the table saying what a column measures in this lesson
    /// ("p50/p99/max: the wait to take a lock, one in 16 timed").
    pub fn legend(&mut self, line: impl Into<String>) {
        self.legend.push(line.into());
    }

    /// Adds a verdict line, printed under the table. Compute it from the rows' numbers.
    pub fn verdict(&mut self, line: impl Into<String>) {
        self.verdicts.push(line.into());
    }

    /// The rows, in the order they were pushed.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The row of `variant`, if it ran.
    pub fn row(&self, variant: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.variant == variant)
    }

    /// Whether every row behaved as the lesson says (correct, or deliberately broken).
    pub fn all_as_expected(&self) -> bool {
        self.rows.iter().all(Row::as_expected)
    }

    /// Exit status 0 when every row behaved as the lesson says, 1 otherwise.
    pub fn exit_code(&self) -> ExitCode {
        if self.all_as_expected() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }

    /// Prints the report to stdout: JSON lines when `json`, the table otherwise.
    ///
    /// A reader that stops early (`| head`) is not an error: what it did not read is dropped,
    /// where `println!` would panic on the broken pipe.
    pub fn print(&self, json: bool) {
        let text = if json {
            self.rows.iter().map(|row| row.to_json() + "\n").collect()
        } else {
            self.table()
        };
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    }

    /// The table for people: one line per row, fastest first, then the verdicts.
    pub fn table(&self) -> String {
        let mut rows: Vec<&Row> = self.rows.iter().collect();
        rows.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
        let with_latency = rows.iter().any(|r| r.p50_ns.is_some());

        let mut header = vec!["variant", "workers", "items", "check", "wall", "rate"];
        if with_latency {
            header.extend(["p50", "p99", "max"]);
        }
        header.push("note");
        let mut cells: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
        for row in &rows {
            let mut line = vec![
                row.variant.clone(),
                row.workers.to_string(),
                fmt_count(row.items),
                check_cell(row),
                fmt_ns(row.wall_s * 1e9),
                fmt_rate(row.per_s),
            ];
            if with_latency {
                for value in [row.p50_ns, row.p99_ns, row.max_ns] {
                    line.push(value.map_or_else(|| "-".to_string(), |ns| fmt_ns(ns as f64)));
                }
            }
            line.push(row.note.clone());
            cells.push(line);
        }

        let mut out = format!("{}\n", self.lesson);
        out.push_str(&align(&cells));
        for line in &self.legend {
            let _ = writeln!(out, "  {line}");
        }
        for verdict in &self.verdicts {
            let _ = writeln!(out, "{verdict}");
        }
        out
    }
}

/// "ok", "WRONG" or "broken, as meant", with the numbers where they differ.
fn check_cell(row: &Row) -> String {
    let numbers = if row.expected == row.result {
        fmt_count(row.result)
    } else {
        format!("{} of {}", fmt_count(row.result), fmt_count(row.expected))
    };
    match (row.correct, row.expected_failure) {
        (true, _) => format!("ok {numbers}"),
        (false, true) => format!("broken, as meant: {numbers}"),
        (false, false) => format!("WRONG {numbers}"),
    }
}

/// Left-aligns text columns and right-aligns numeric ones, two spaces apart.
fn align(cells: &[Vec<String>]) -> String {
    let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
    let width = |c: usize| {
        cells
            .iter()
            .filter_map(|line| line.get(c))
            .map(|cell| cell.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..columns).map(width).collect();
    let mut out = String::new();
    for line in cells {
        let mut text = String::new();
        for (c, cell) in line.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            let numeric = cell.starts_with(|ch: char| ch.is_ascii_digit());
            if c > 0 {
                text.push_str("  ");
            }
            if numeric && c + 1 < columns {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn row(variant: &str, millis: u64, expected: u64, result: u64) -> Row {
        Row::new("lesson", variant)
            .items(expected)
            .check(expected, result)
            .wall(Duration::from_millis(millis))
    }

    #[test]
    fn table_lists_fastest_first_and_marks_failures() {
        let mut report = Report::new("lesson");
        report.push(row("slow", 30, 10, 10));
        report.push(row("fast", 10, 10, 10));
        report.push(row("racy", 20, 10, 7).deliberately_broken());
        report.verdict("lost 3 of 10 updates");
        let table = report.table();
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[2].starts_with("fast"), "{table}");
        assert!(lines[3].starts_with("racy"), "{table}");
        assert!(lines[3].contains("broken, as meant: 7 of 10"), "{table}");
        assert!(lines[4].starts_with("slow"), "{table}");
        assert_eq!(lines[5], "lost 3 of 10 updates");
        assert!(report.all_as_expected());
    }

    #[test]
    fn a_wrong_row_fails_the_run() {
        let mut report = Report::new("lesson");
        report.push(row("mutex", 10, 10, 9));
        assert!(!report.all_as_expected());
        assert!(report.table().contains("WRONG 9 of 10"));
        assert_eq!(report.exit_code(), ExitCode::FAILURE);
    }
}
