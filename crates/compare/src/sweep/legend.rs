//! A sweep chart's legend, drawn beside the chart (so it never hides a line), and the colour and
//! kind of each series it shares with the lines.

use anyhow::Result;
use plotters::prelude::*;

use super::record::Point;
use super::svg::plot_error;
use super::words::series_names;

/// The series' colours, in order; Rust and Python series share the palette, their markers differ.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// A series' colour: its place among all of the lesson's series.
pub fn colour_of(all: &[String], name: &str) -> RGBColor {
    let i = all.iter().position(|n| n == name).unwrap_or(0);
    PALETTE[i % PALETTE.len()]
}

/// Whether the series `name` of `points` is of `language`.
pub fn is(points: &[Point], name: &str, language: &str) -> bool {
    points
        .iter()
        .any(|p| p.series == name && p.language == language)
}

/// The legend, a row per series of the panel: its swatch (filled for Rust, outlined for Python,
/// dashed for the limit) and its name.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    points: &[Point],
    all: &[String],
) -> Result<()> {
    for (row, name) in series_names(points).iter().enumerate() {
        let y = 30 + 22 * row as i32;
        let swatch = [(4, y - 6), (22, y + 6)];
        if is(points, name, "machine") {
            for x in [4, 15] {
                area.draw(&Rectangle::new(
                    [(x, y - 1), (x + 7, y + 1)],
                    BLACK.filled(),
                ))
                .map_err(plot_error)?;
            }
        } else if is(points, name, "Python") {
            let style = colour_of(all, name).stroke_width(2);
            area.draw(&Rectangle::new(swatch, style))
                .map_err(plot_error)?;
        } else {
            let style = colour_of(all, name).filled();
            area.draw(&Rectangle::new(swatch, style))
                .map_err(plot_error)?;
        }
        area.draw(&Text::new(name.clone(), (30, y - 7), ("sans-serif", 13)))
            .map_err(plot_error)?;
    }
    Ok(())
}
