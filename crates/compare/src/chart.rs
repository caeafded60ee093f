//! The comparison as an SVG bar chart: one bar per pair, the Rust speedup on a log scale, a
//! colour per mechanism, waiting pairs pale and the cross-mechanism pair outlined, with a legend.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use crate::Pair;
use crate::plan::Plan;

/// Each mechanism's colour, in the legend's order; a mechanism not listed is drawn grey.
const MECHANISMS: [(&str, RGBColor); 6] = [
    ("threads", RGBColor(31, 119, 180)),
    ("processes", RGBColor(255, 127, 14)),
    ("shared-memory", RGBColor(44, 160, 44)),
    ("async", RGBColor(148, 103, 189)),
    ("broker", RGBColor(140, 86, 75)),
    ("sequential", RGBColor(127, 127, 127)),
];

/// The colour of `mechanism`.
fn colour(mechanism: &str) -> RGBColor {
    MECHANISMS
        .iter()
        .find(|(name, _)| *name == mechanism)
        .map_or(RGBColor(127, 127, 127), |(_, c)| *c)
}

/// Whether `pair` is one of its plan's waiting variants (sleeps, network delays), where the
/// ratio says little about either language.
fn waits(plans: &[Plan], pair: &Pair) -> bool {
    plans
        .iter()
        .any(|plan| plan.lesson == pair.lesson && plan.waits.contains(&pair.rust_variant()))
}

/// Draws one horizontal bar per pair (Rust speedup over Python, log scale) into `path`.
pub fn write_svg(plans: &[Plan], pairs: &[Pair], machine: &str, path: &Path) -> Result<()> {
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
            let across = if p.cross_mechanism { " (across)" } else { "" };
            format!(
                "{}: {} / {}{across}",
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
    let (low, high) = ((smallest / 2.0).min(0.5), (largest * 4.0).max(4.0));
    let rows = pairs.len();

    let root = SVGBackend::new(path, (1000, 150 + 26 * rows as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    // The legend has a band of its own above the chart, so it never covers a bar.
    let (band, area) = root.split_vertically(84);
    band.draw(&Text::new(
        format!("Rust speedup over the Python twin ({machine})"),
        (12, 10),
        ("sans-serif", 16),
    ))
    .map_err(plot_error)?;
    legend(&band, plans, &pairs)?;
    // The rows as plain numbers, bar `row` around the integer `row`: a segmented axis would add
    // an empty segment past the last row.
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(400)
        .build_cartesian_2d((low..high).log_scale(), -0.5..rows as f64 - 0.5)
        .map_err(plot_error)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(6)
        .x_label_formatter(&|v| format!("{v}"))
        .y_labels(rows)
        .y_label_formatter(&|v| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_desc("times faster (log scale; 1 = as fast as Python)")
        .draw()
        .map_err(plot_error)?;
    let bar = |i: usize, pair: &Pair| {
        let row = (rows - 1 - i) as f64;
        // Bars grow from 1 (as fast as Python): right when Rust is faster, left when slower.
        let corners = [(1.0, row - 0.35), (pair.speedup(), row + 0.35)];
        let fill = colour(pair.rust["mechanism"].as_str().unwrap_or_default());
        let shade = if waits(plans, pair) { 0.3 } else { 0.85 };
        let mut shapes = vec![Rectangle::new(corners, fill.mix(shade).filled())];
        if pair.cross_mechanism {
            shapes.push(Rectangle::new(corners, BLACK.stroke_width(2)));
        }
        shapes
    };
    chart
        .draw_series(pairs.iter().enumerate().flat_map(|(i, p)| bar(i, p)))
        .map_err(plot_error)?;
    chart
        .draw_series(pairs.iter().enumerate().map(|(i, pair)| {
            let at = (pair.speedup().max(1.0), (rows - 1 - i) as f64 + 0.22);
            Text::new(format!(" {:.1}x", pair.speedup()), at, ("sans-serif", 12))
        }))
        .map_err(plot_error)?;
    root.present().map_err(plot_error)?;
    Ok(())
}

/// One swatch and name per mechanism drawn, then what pale and outlined bars mean, in rows
/// across `band`.
fn legend<DB: DrawingBackend>(
    band: &DrawingArea<DB, plotters::coord::Shift>,
    plans: &[Plan],
    pairs: &[&Pair],
) -> Result<()> {
    let drawn = |name: &str| {
        pairs
            .iter()
            .any(|p| p.rust["mechanism"].as_str() == Some(name))
    };
    let mut entries: Vec<(String, ShapeStyle)> = MECHANISMS
        .iter()
        .filter(|(name, _)| drawn(name))
        .map(|(name, fill)| (name.to_string(), fill.mix(0.85).filled()))
        .collect();
    if pairs.iter().any(|p| waits(plans, p)) {
        entries.push(("pale: the work is waiting".into(), BLACK.mix(0.2).filled()));
    }
    if pairs.iter().any(|p| p.cross_mechanism) {
        entries.push((
            "outlined: across mechanisms, on purpose".into(),
            BLACK.stroke_width(2),
        ));
    }
    let (mut x, mut y) = (420, 48);
    for (name, style) in entries {
        let width = 30 + 7 * name.len() as i32;
        if x + width > 990 {
            (x, y) = (420, y + 18);
        }
        band.draw(&Rectangle::new([(x, y - 6), (x + 14, y + 6)], style))
            .map_err(plot_error)?;
        band.draw(&Text::new(name, (x + 20, y - 7), ("sans-serif", 13)))
            .map_err(plot_error)?;
        x += width;
    }
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
    fn draws_one_bar_per_pair_coloured_by_mechanism_with_a_legend() {
        let pair = |py: &str, rs: &str, mechanism: &str, rs_rate: f64| Pair {
            lesson: "race-lock".into(),
            python: json!({"variant": py, "correct": true, "wall_s": 1.0, "per_s": 1e6}),
            rust: json!({"variant": rs, "mechanism": mechanism, "correct": true, "wall_s": 0.1,
                         "per_s": rs_rate}),
            cross_mechanism: false,
        };
        let pairs = [
            pair("lock", "mutex", "threads", 1e7),
            pair("slow", "slower", "threads", 5e5),
            pair("fork", "fork", "processes", 2e6),
        ];
        let path = std::env::temp_dir().join(format!("compare-chart-{}.svg", std::process::id()));
        write_svg(crate::plan::PLANS, &pairs, "test machine", &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(svg.contains("race-lock: lock / mutex"), "{svg}");
        assert!(svg.contains("race-lock: slow / slower"));
        let rects = |colour: &str| {
            svg.lines()
                .filter(|l| l.contains("<rect") && l.contains(colour))
                .count()
        };
        // Two threads bars and one processes bar, each mechanism once in the legend.
        assert_eq!(rects("#1F77B4"), 3, "{svg}");
        assert_eq!(rects("#FF7F0E"), 2, "{svg}");
        let texts: Vec<&str> = svg.lines().map(str::trim).collect();
        assert!(
            texts.contains(&"threads") && texts.contains(&"processes"),
            "{svg}"
        );
        assert!(
            !texts.contains(&"async"),
            "a mechanism not drawn is not in the legend"
        );
    }
}
