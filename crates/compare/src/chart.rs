//! The comparison as an SVG bar chart: one bar per pair, the Rust speedup on a log scale.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use crate::Pair;

/// Draws one horizontal bar per pair (Rust speedup over Python, log scale) into `path`.
pub fn write_svg(pairs: &[Pair], machine: &str, path: &Path) -> Result<()> {
    let pairs: Vec<&Pair> = pairs
        .iter()
        .filter(|p| p.speedup().is_finite() && p.speedup() > 0.0)
        .collect();
    if pairs.is_empty() {
        return Err(anyhow!("no pair has a speedup to draw"));
    }
    // Segment 0 is at the bottom of the chart; listing the labels in reverse puts the first pair
    // at the top, in the order of the table.
    let labels: Vec<String> = pairs
        .iter()
        .rev()
        .map(|p| {
            format!(
                "{}: {} / {}",
                p.lesson,
                p.python_variant(),
                p.rust_variant()
            )
        })
        .collect();
    let smallest = pairs
        .iter()
        .map(|p| p.speedup())
        .fold(f64::INFINITY, f64::min);
    let largest = pairs.iter().map(|p| p.speedup()).fold(0.0, f64::max);
    let (low, high) = ((smallest / 2.0).min(0.5), (largest * 2.0).max(2.0));
    let rows = pairs.len();

    let root = SVGBackend::new(path, (1000, 90 + 26 * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Rust speedup over the Python twin ({machine})"),
            ("sans-serif", 16),
        )
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(400)
        .build_cartesian_2d((low..high).log_scale(), (0..rows).into_segmented())
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(rows)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                labels.get(*i).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        })
        .x_desc("times faster (log scale; 1 = as fast as Python)")
        .draw()
        .map_err(plot_error)?;
    chart
        .draw_series(pairs.iter().enumerate().map(|(i, pair)| {
            // Bars grow from 1 (as fast as Python): right when Rust is faster, left when slower.
            let colour = if pair.speedup() >= 1.0 { BLUE } else { RED };
            let row = rows - 1 - i;
            let mut bar = Rectangle::new(
                [
                    (1.0, SegmentValue::Exact(row)),
                    (pair.speedup(), SegmentValue::Exact(row + 1)),
                ],
                colour.mix(0.7).filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            bar
        }))
        .map_err(plot_error)?;
    chart
        .draw_series(pairs.iter().enumerate().map(|(i, pair)| {
            let at = (
                pair.speedup().max(1.0),
                SegmentValue::CenterOf(rows - 1 - i),
            );
            Text::new(format!(" {:.1}x", pair.speedup()), at, ("sans-serif", 12))
        }))
        .map_err(plot_error)?;
    root.present().map_err(plot_error)?;
    Ok(())
}

fn plot_error(err: impl std::fmt::Debug) -> anyhow::Error {
    anyhow!("drawing the chart: {err:?}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn draws_one_bar_per_pair_with_its_label() {
        let pair = |py: &str, rs: &str, py_rate: f64, rs_rate: f64| Pair {
            lesson: "race-lock".into(),
            python: json!({"variant": py, "correct": true, "wall_s": 1.0, "per_s": py_rate}),
            rust: json!({"variant": rs, "correct": true, "wall_s": 0.1, "per_s": rs_rate}),
            cross_mechanism: false,
        };
        let pairs = [
            pair("lock", "mutex", 1e6, 1e7),
            pair("slow", "slower", 1e6, 5e5),
        ];
        let path = std::env::temp_dir().join(format!("compare-chart-{}.svg", std::process::id()));
        write_svg(&pairs, "test machine", &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(svg.contains("race-lock: lock / mutex"), "{svg}");
        assert!(svg.contains("race-lock: slow / slower"));
        assert_eq!(
            svg.matches("<rect").count() - 1,
            2,
            "a background and two bars"
        );
    }
}
