//! A lesson's sweep as an SVG: a panel per figure (rate, lost updates, memory), one line per
//! series with its runs' range as a bar at each point, the machine's limit dashed, a legend.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::legend::{colour_of, is, legend};
use super::record::Point;
use super::words::{curve, series_names};

/// A figure's range is drawn on a log axis when its ends are this far apart; the swept sizes,
/// which double or grow tenfold, already from this ratio on.
const WIDE: f64 = 20.0;
const WIDE_X: f64 = 4.0;

/// The width of the chart, and of the legend beside it (beside, so it never hides a line).
const CHART_W: u32 = 760;
const LEGEND_W: u32 = 250;

/// Draws `points` (one lesson's) into `path`, titled with the machine: a panel per figure.
pub fn write(points: &[Point], title: &str, path: &Path) -> Result<()> {
    let mut y_names: Vec<&'static str> = Vec::new();
    for p in points {
        if !y_names.contains(&p.y_name) {
            y_names.push(p.y_name);
        }
    }
    let size = (CHART_W + LEGEND_W, 40 + 400 * y_names.len() as u32);
    let root = SVGBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error)?;
    let (band, rest) = root.split_vertically(40);
    band.draw(&Text::new(title.to_string(), (12, 12), ("sans-serif", 15)))
        .map_err(plot_error)?;
    // A series keeps its colour in every panel: its place among all of the lesson's series.
    let all = series_names(points);
    let panels = rest.split_evenly((y_names.len(), 1));
    for (panel, y_name) in panels.iter().zip(&y_names) {
        let these: Vec<Point> = points
            .iter()
            .filter(|p| p.y_name == *y_name)
            .cloned()
            .collect();
        let (chart, key) = panel.split_horizontally(CHART_W);
        draw_panel(&chart, &these, &all)?;
        legend(&key, &these, &all)?;
    }
    root.present().map_err(plot_error)?;
    Ok(())
}

/// An axis: its range and whether it is on a log scale.
#[derive(Debug, Clone, Copy)]
struct Axis {
    low: f64,
    high: f64,
    log: bool,
}

impl Axis {
    /// The axis over `values`, on a log scale when the ends are `wide` apart, with `room`
    /// (a factor on a log axis, a share on a linear one from zero) beyond them.
    fn over(values: impl Iterator<Item = f64>, wide: f64, room: f64) -> Axis {
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        if lo > 0.0 && hi / lo >= wide {
            Axis {
                low: lo / room,
                high: hi * room,
                log: true,
            }
        } else {
            Axis {
                low: lo.min(0.0),
                high: (hi * (1.0 + (room - 1.0) / 3.0)).max(1e-9),
                log: false,
            }
        }
    }

    /// The axis' name, saying when it is a log scale.
    fn desc(&self, name: &str) -> String {
        format!("{name}{}", if self.log { " (log scale)" } else { "" })
    }
}

/// An x label: the swept values are whole numbers, so a tick between two has none; past ten
/// thousand it gets k or M.
fn x_label(v: &f64) -> String {
    if (v - v.round()).abs() > 1e-6 {
        String::new()
    } else if v.abs() >= 1e4 {
        super::words::figure(*v)
    } else {
        format!("{v:.0}")
    }
}

/// One panel: the series reading one figure, on log axes where their range is wide.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    points: &[Point],
    all: &[String],
) -> Result<()> {
    let x = Axis::over(points.iter().map(|p| p.x as f64), WIDE_X, 1.3);
    let y = Axis::over(points.iter().flat_map(|p| [p.y.min, p.y.max]), WIDE, 1.5);
    let (x_name, y_name) = points.first().map_or(("x", "y"), |p| (p.x_name, p.y_name));
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(70);
    let y_label = |v: &f64| super::words::figure(*v);
    let (x_desc, y_desc) = (x.desc(x_name), y.desc(y_name));
    let ((x0, x1), (y0, y1)) = ((x.low, x.high), (y.low, y.high));
    // The four combinations of axes are four types; a macro keeps one body for them all.
    macro_rules! draw {
        ($x:expr, $y:expr) => {{
            let mut chart = builder.build_cartesian_2d($x, $y).map_err(plot_error)?;
            chart
                .configure_mesh()
                .x_label_formatter(&x_label)
                .y_label_formatter(&y_label)
                .x_desc(x_desc.as_str())
                .y_desc(y_desc.as_str())
                .draw()
                .map_err(plot_error)?;
            series(&mut chart, points, all)?;
        }};
    }
    match (x.log, y.log) {
        (true, true) => draw!((x0..x1).log_scale(), (y0..y1).log_scale()),
        (true, false) => draw!((x0..x1).log_scale(), y0..y1),
        (false, true) => draw!(x0..x1, (y0..y1).log_scale()),
        (false, false) => draw!(x0..x1, y0..y1),
    }
    Ok(())
}

/// Each series as a line with markers and range bars, the limit dashed and black.
fn series<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    points: &[Point],
    all: &[String],
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    for name in &series_names(points) {
        let line: Vec<(f64, f64)> = curve(points, name)
            .iter()
            .map(|&(x, y)| (x as f64, y))
            .collect();
        if is(points, name, "machine") {
            chart
                .draw_series(DashedLineSeries::new(line, 8, 5, BLACK.stroke_width(2)))
                .map_err(plot_error)?;
            continue;
        }
        let colour = colour_of(all, name);
        chart
            .draw_series(LineSeries::new(line.clone(), colour.stroke_width(2)))
            .map_err(plot_error)?;
        // Rust's markers are filled and Python's hollow, so two series of one colour never meet.
        let marker = if is(points, name, "Python") {
            colour.stroke_width(2)
        } else {
            colour.filled()
        };
        chart
            .draw_series(line.iter().map(|&at| Circle::new(at, 4, marker)))
            .map_err(plot_error)?;
        // The runs' range as a thin bar (stroke 1, where the line is 2) through each point.
        let bars = points.iter().filter(|p| &p.series == name).map(|p| {
            let x = p.x as f64;
            PathElement::new(vec![(x, p.y.min), (x, p.y.max)], colour.stroke_width(1))
        });
        chart.draw_series(bars).map_err(plot_error)?;
    }
    Ok(())
}

pub(crate) fn plot_error(err: impl std::fmt::Debug) -> anyhow::Error {
    anyhow!("drawing the sweep: {err:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::record::tests::point;

    #[test]
    fn each_series_is_one_line_with_a_legend_entry_and_the_limit_is_dashed() {
        let mut points = Vec::new();
        for x in [1, 4, 16, 64] {
            let f = x as f64;
            points.push(point(
                "Rust mutex",
                "per_s",
                x,
                &[1e7 / f, 2e7 / f, 3e7 / f],
            ));
            points.push(point("Python lock", "per_s", x, &[1e5, 2e5]));
            let mut limit = point("ideal", "per_s", x, &[3e7]);
            limit.language = "machine";
            points.push(limit);
            points.push(point("Rust racy", "lost", x, &[0.0, f * 100.0]));
        }
        let path = std::env::temp_dir().join(format!("sweep-svg-{}.svg", std::process::id()));
        write(&points, "test machine", &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        // A series' line is its one polyline of stroke 2 in its colour; its range bars are 1 wide.
        let lines = |colour: &str| {
            svg.lines()
                .filter(|l| l.contains("<polyline") && l.contains(colour))
                .filter(|l| l.contains("stroke-width=\"2\""))
                .count()
        };
        assert_eq!(lines("#1F77B4"), 1, "Rust mutex, first colour");
        assert_eq!(lines("#FF7F0E"), 1, "Python lock, second colour");
        assert_eq!(
            lines("#D62728"),
            1,
            "Rust racy, the fourth series, in its own panel"
        );
        let dashes = svg
            .lines()
            .filter(|l| l.contains("<polyline") && l.contains("#000000"))
            .count();
        assert!(dashes > 3, "the limit is drawn in dashes: {dashes}");
        for name in ["Rust mutex", "Python lock", "ideal", "Rust racy"] {
            assert!(
                svg.contains(&format!(">{name}<")) || svg.contains(name),
                "{name}"
            );
        }
        assert!(svg.contains("(log scale)"), "wide ranges are on log axes");
    }
}
