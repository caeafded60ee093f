//! A sweep's points, one JSON object each (`target/compare/sweep.jsonl`).

use anyhow::{Context as _, Result};
use serde_json::{Value, json};

use super::stats::Summary;

/// One series at one point: its figure's median over the runs, and their range.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The lesson swept.
    pub lesson: String,
    /// The chart it is drawn in ([`super::Spec::chart`]).
    pub chart: String,
    /// The legend's name of the line it belongs to.
    pub series: String,
    /// "Rust", "Python" or "machine" (a limit).
    pub language: &'static str,
    /// The row's `mechanism` (threads, processes, ...); "limit" for the machine's.
    pub mechanism: String,
    /// The flag swept.
    pub x_name: &'static str,
    /// Its value.
    pub x: u64,
    /// What is read (`per_s`, `lost`, `speedup`, ...).
    pub y_name: &'static str,
    /// The figure over the runs.
    pub y: Summary,
    /// What the run ran on ([`crate::machine::describe`]).
    pub machine: String,
    /// The CPUs a probe got just before this point ([`crate::machine::parallelism`]).
    pub parallelism: f64,
}

/// A point as the JSON object `sweep.jsonl` holds.
pub fn point_json(p: &Point) -> Value {
    json!({
        "lesson": p.lesson,
        "chart": p.chart,
        "series": p.series,
        "language": p.language,
        "mechanism": p.mechanism,
        "x_name": p.x_name,
        "x": p.x,
        "y_name": p.y_name,
        "y": p.y.median,
        "y_min": p.y.min,
        "y_max": p.y.max,
        "runs": p.y.runs,
        "machine": p.machine,
        "parallelism": p.parallelism,
    })
}

/// Every point, one JSON object a line.
pub fn jsonl(points: &[Point]) -> String {
    points
        .iter()
        .map(|p| format!("{}\n", point_json(p)))
        .collect()
}

/// The points of a `sweep.jsonl` written by [`jsonl`], so that its pages can be drawn again
/// without running it again. `names` are the figure and flag names a point may carry.
pub fn parse(text: &str, names: &[&'static str]) -> Result<Vec<Point>> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| point_from(line, names).with_context(|| format!("line {}", i + 1)))
        .collect()
}

/// One point from its line.
fn point_from(line: &str, names: &[&'static str]) -> Result<Point> {
    let v: Value = serde_json::from_str(line).context("not JSON")?;
    let text = |key: &str| -> Result<String> {
        Ok(v[key]
            .as_str()
            .with_context(|| format!("no {key}"))?
            .to_string())
    };
    let number = |key: &str| v[key].as_f64().with_context(|| format!("no {key}"));
    let known = |key: &str| -> Result<&'static str> {
        let name = text(key)?;
        names
            .iter()
            .find(|n| **n == name)
            .copied()
            .with_context(|| format!("unknown {key} {name:?}"))
    };
    let language = match text("language")?.as_str() {
        "Rust" => "Rust",
        "Python" => "Python",
        _ => "machine",
    };
    Ok(Point {
        lesson: text("lesson")?,
        chart: text("chart")?,
        series: text("series")?,
        language,
        mechanism: text("mechanism")?,
        x_name: known("x_name")?,
        x: v["x"].as_u64().context("no x")?,
        y_name: known("y_name")?,
        y: Summary {
            median: number("y")?,
            min: number("y_min")?,
            max: number("y_max")?,
            runs: v["runs"].as_u64().context("no runs")? as usize,
        },
        machine: text("machine")?,
        parallelism: number("parallelism")?,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sweep::stats::summarise;

    /// A point of series `series` at `x` whose runs gave `ys`.
    pub(crate) fn point(series: &str, y_name: &'static str, x: u64, ys: &[f64]) -> Point {
        Point {
            lesson: "race-lock".into(),
            chart: "race-lock".into(),
            series: series.into(),
            language: if series.starts_with("Python") {
                "Python"
            } else {
                "Rust"
            },
            mechanism: "threads".into(),
            x_name: "workers",
            x,
            y_name,
            y: summarise(ys).unwrap(),
            machine: "test machine".into(),
            parallelism: 2.0,
        }
    }

    #[test]
    fn every_point_is_one_line_with_every_field() {
        let points = [
            point("Rust mutex", "per_s", 4, &[3.0, 1.0, 2.0]),
            point("Python lock", "per_s", 4, &[5.0]),
        ];
        let text = jsonl(&points);
        assert_eq!(text.lines().count(), 2);
        let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        let keys = [
            "lesson",
            "chart",
            "series",
            "language",
            "mechanism",
            "x_name",
            "x",
            "y_name",
            "y",
            "y_min",
            "y_max",
            "runs",
            "machine",
            "parallelism",
        ];
        assert_eq!(first.as_object().unwrap().len(), keys.len());
        for key in keys {
            assert!(first.get(key).is_some(), "{key} missing: {first}");
        }
        assert_eq!(
            (first["y"].as_f64(), first["y_min"].as_f64()),
            (Some(2.0), Some(1.0))
        );
        assert_eq!(
            (first["y_max"].as_f64(), first["runs"].as_u64()),
            (Some(3.0), Some(3))
        );
        assert_eq!(first["language"], "Rust");
        assert_eq!(parse(&text, &["workers", "per_s"]).unwrap(), points);
        assert!(parse(&text, &["workers"]).is_err());
    }
}
