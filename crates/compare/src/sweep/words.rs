//! What a sweep says, in words and tables made from its figures: where each curve bends, and
//! every point's median with its range.

use super::bend::{Shape, shape};
use super::record::Point;

/// A figure in three significant digits, with k from ten thousand, M from a million, G from a
/// billion.
pub fn figure(v: f64) -> String {
    let (scaled, unit) = match v.abs() {
        a if a >= 1e9 => (v / 1e9, " G"),
        a if a >= 1e6 => (v / 1e6, " M"),
        a if a >= 1e4 => (v / 1e3, " k"),
        _ => (v, ""),
    };
    let digits = match scaled.abs() {
        a if a >= 100.0 || a == 0.0 => 0,
        a if a >= 10.0 => 1,
        a if a >= 1.0 => 2,
        _ => 3,
    };
    format!("{scaled:.digits$}{unit}")
}

/// One sentence on a series' curve: its ends, where it first rises above zero if it starts
/// there, and where it bends (or that it does not).
pub fn sentence(series: &str, x_name: &str, y_name: &str, curve: &[(u64, f64)]) -> String {
    let (Some(first), Some(last)) = (curve.first(), curve.last()) else {
        return format!("{series}: no points.");
    };
    let mut text = format!(
        "{series}: {y_name} {} at {x_name} = {}, {} at {}",
        figure(first.1),
        first.0,
        figure(last.1),
        last.0
    );
    let above: Vec<(u64, f64)> = curve.iter().copied().skip_while(|p| p.1 <= 0.0).collect();
    if first.1 <= 0.0 {
        match above.first() {
            Some(p) => text.push_str(&format!("; zero until {x_name} = {}", p.0)),
            None => text.push_str("; zero throughout"),
        }
    }
    match shape(&above) {
        Some(Shape::Bends { x, before, after }) => text.push_str(&format!(
            "; it bends at {x_name} = {x}: each doubling of {x_name} multiplied it by {before:.2} \
             up to there, by {after:.2} from there on"
        )),
        Some(Shape::Straight(f)) => text.push_str(&format!(
            "; no bend: each doubling of {x_name} multiplied it by {f:.2} throughout"
        )),
        None => {}
    }
    text.push('.');
    text
}

/// The series names of `points` in the order they first appear.
pub fn series_names(points: &[Point]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in points {
        if !names.contains(&p.series) {
            names.push(p.series.clone());
        }
    }
    names
}

/// The curve of `series`: (x, median) in the order run.
pub fn curve(points: &[Point], series: &str) -> Vec<(u64, f64)> {
    points
        .iter()
        .filter(|p| p.series == series)
        .map(|p| (p.x, p.y.median))
        .collect()
}

/// What each one added took, in KiB, along a memory curve (x, MiB): the growth from its first
/// point to its last over the x between; `None` for a curve of one x.
pub fn kib_each(curve: &[(u64, f64)]) -> Option<f64> {
    let (a, b) = (curve.first()?, curve.last()?);
    (b.0 > a.0).then(|| (b.1 - a.1) / (b.0 - a.0) as f64 * 1024.0)
}

/// A sentence for every series of a lesson's points that is not the machine's limit; a
/// memory's also says what each one added took.
pub fn sentences(points: &[Point]) -> Vec<String> {
    series_names(points)
        .iter()
        .filter_map(|name| {
            let first = points.iter().find(|p| &p.series == name)?;
            let line = curve(points, name);
            let mut text = sentence(name, first.x_name, first.y_name, &line);
            if first.y_name == "peak_rss_mib"
                && let (Some(kib), Some(a), Some(b)) = (kib_each(&line), line.first(), line.last())
            {
                text.pop();
                text.push_str(&format!(
                    "; about {} KiB more for each one added from {} = {} to {}.",
                    figure(kib),
                    first.x_name,
                    a.0,
                    b.0
                ));
            }
            (first.language != "machine").then_some(text)
        })
        .collect()
}

/// One Markdown table for each figure of a lesson's points: a row per x, a column per series,
/// each cell the median with the range of the runs.
pub fn tables(points: &[Point]) -> String {
    let mut out = String::new();
    // In the order the panels are drawn: the first figure a series reads first.
    let mut y_names: Vec<&str> = Vec::new();
    for p in points {
        if !y_names.contains(&p.y_name) {
            y_names.push(p.y_name);
        }
    }
    for y_name in y_names {
        let these: Vec<Point> = points
            .iter()
            .filter(|p| p.y_name == y_name)
            .cloned()
            .collect();
        let names = series_names(&these);
        let x_name = these.first().map_or("x", |p| p.x_name);
        out.push_str(&format!(
            "\n`{y_name}`, median (least to most) of the runs:\n\n"
        ));
        // The CPUs free before each point sit beside its figures: two vCPUs are sometimes one.
        out.push_str(&format!(
            "| {x_name} | {} | CPUs free |\n",
            names.join(" | ")
        ));
        out.push_str(&format!("|---:|{}---:|\n", "---:|".repeat(names.len())));
        let mut xs: Vec<u64> = these.iter().map(|p| p.x).collect();
        xs.dedup();
        for x in xs {
            let cells: Vec<String> = names
                .iter()
                .map(|n| {
                    these
                        .iter()
                        .find(|p| &p.series == n && p.x == x)
                        .map_or("-".into(), |p| {
                            if p.y.runs > 1 {
                                let (lo, hi) = (figure(p.y.min), figure(p.y.max));
                                format!("{} ({lo} to {hi})", figure(p.y.median))
                            } else {
                                figure(p.y.median)
                            }
                        })
                })
                .collect();
            let cpus = these
                .iter()
                .find(|p| p.x == x)
                .map_or(0.0, |p| p.parallelism);
            out.push_str(&format!("| {x} | {} | {cpus:.1} |\n", cells.join(" | ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::record::tests::point;

    #[test]
    fn a_sentence_names_the_ends_the_bend_and_where_zero_ends() {
        let curve = [(1, 100.0), (2, 100.0), (4, 100.0), (8, 50.0), (16, 25.0)];
        let text = sentence("Rust mutex", "workers", "per_s", &curve);
        assert_eq!(
            text,
            "Rust mutex: per_s 100 at workers = 1, 25.0 at 16; it bends at workers = 4: each \
             doubling of workers multiplied it by 1.00 up to there, by 0.50 from there on."
        );
        let straight = [(1, 1.0), (2, 2.0), (4, 4.0), (8, 8.0)];
        let text = sentence("s", "tasks", "wall_s", &straight);
        assert!(
            text.contains("no bend: each doubling of tasks multiplied it by 2.00"),
            "{text}"
        );
        let lost = [
            (1, 0.0),
            (2, 0.0),
            (4, 10.0),
            (8, 30.0),
            (16, 300.0),
            (32, 3000.0),
        ];
        let text = sentence("Rust racy", "workers", "lost", &lost);
        assert!(text.contains("zero until workers = 4"), "{text}");
        assert!(text.contains("bends at workers = 8"), "{text}");
    }

    #[test]
    fn figures_keep_three_digits() {
        assert_eq!(figure(12_345_678.0), "12.3 M");
        assert_eq!(figure(0.0512), "0.051");
        assert_eq!(figure(850.0), "850");
        assert_eq!(figure(0.0), "0");
    }

    #[test]
    fn a_table_has_a_row_per_x_and_a_column_per_series() {
        let points = [
            point("Rust mutex", "per_s", 1, &[1e6, 2e6, 3e6]),
            point("Python lock", "per_s", 1, &[1e5]),
            point("Rust mutex", "per_s", 2, &[4e6]),
            point("Python lock", "per_s", 2, &[2e5]),
        ];
        let md = tables(&points);
        assert!(
            md.contains("| workers | Rust mutex | Python lock |"),
            "{md}"
        );
        assert!(
            md.contains("| 1 | 2.00 M (1.00 M to 3.00 M) | 100 k |"),
            "{md}"
        );
        assert!(md.contains("| 2 | 4.00 M | 200 k |"), "{md}");
        assert_eq!(sentences(&points).len(), 2);
        let memory = [
            point("Rust threads", "peak_rss_mib", 10, &[2.0]),
            point("Rust threads", "peak_rss_mib", 1010, &[12.0]),
        ];
        let text = &sentences(&memory)[0];
        assert!(
            text.ends_with("; about 10.2 KiB more for each one added from workers = 10 to 1010."),
            "{text}"
        );
    }
}
