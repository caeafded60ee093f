//! How near each series came to the machine's own limit (ideal speedup, memcpy, one delay), at
//! the largest point: the sentence that says whether a curve flattened against the machine or
//! against its own overhead.

use super::record::Point;
use super::words::{figure, series_names};

/// One sentence naming the limit at the largest point it shares with the series of its figure,
/// and each series' figure there as a share (below the limit) or a multiple (above) of it; `None`
/// when the lesson has no limit. Only the series `bounds` says the line bounds are put against it.
pub fn sentence(points: &[Point], bounds: impl Fn(&str) -> bool) -> Option<String> {
    let limit = points.iter().find(|p| p.language == "machine")?;
    let x = points
        .iter()
        .filter(|p| p.series == limit.series)
        .map(|p| p.x)
        .max()?;
    let at = points
        .iter()
        .find(|p| p.series == limit.series && p.x == x)?;
    let mut parts = Vec::new();
    for name in series_names(points).into_iter().filter(|n| bounds(n)) {
        let Some(p) = points.iter().find(|p| {
            p.series == name && p.x == x && p.y_name == at.y_name && p.language != "machine"
        }) else {
            continue;
        };
        let ratio = p.y.median / at.y.median;
        let share = if ratio < 1.0 {
            format!("{:.0}% of it", ratio * 100.0)
        } else if ratio < 10.0 {
            format!("{ratio:.1}x it")
        } else {
            format!("{ratio:.0}x it")
        };
        parts.push(format!("{name} {} ({share})", figure(p.y.median)));
    }
    (!parts.is_empty()).then(|| {
        format!(
            "Against the machine's own line, {} = {}, at {} = {x}: {}.",
            at.series,
            figure(at.y.median),
            at.x_name,
            parts.join(", ")
        )
    })
}

/// One sentence on the CPUs the probe found free before the points ([`Point::parallelism`]), and
/// the points that had under three quarters of the cores: on a shared machine those points'
/// figures were capped by the moment, not by the language; `None` without points.
pub fn cpus_sentence(points: &[Point], cores: usize) -> Option<String> {
    let first = points.first()?;
    let mut seen: Vec<(u64, f64)> = Vec::new();
    for p in points {
        if !seen.iter().any(|s| s.0 == p.x) {
            seen.push((p.x, p.parallelism));
        }
    }
    let low = seen.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
    let high = seen.iter().map(|s| s.1).fold(0.0, f64::max);
    let floor = 0.75 * cores as f64;
    let short: Vec<String> = seen
        .iter()
        .filter(|s| s.1 < floor)
        .map(|s| s.0.to_string())
        .collect();
    let range = if (high - low).abs() < 0.05 {
        format!("{high:.1}")
    } else {
        format!("{low:.1} to {high:.1}")
    };
    let tail = if short.is_empty() {
        format!("; every point had at least {floor:.1}")
    } else {
        format!(
            "; under {floor:.1} at {} = {}, where the machine's load, not the language, may have \
             held the figures down",
            first.x_name,
            short.join(", ")
        )
    };
    Some(format!(
        "A probe just before each point found {range} of the {cores} cores free{tail}."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::record::tests::point;

    #[test]
    fn each_series_is_put_against_the_limit_at_the_largest_point() {
        let mut points = vec![
            point("Rust fork", "speedup", 1, &[1.0]),
            point("Rust fork", "speedup", 8, &[1.8]),
            point("Python threads", "speedup", 8, &[0.9]),
            point("Rust racy", "lost", 8, &[100.0]),
        ];
        for x in [1, 8] {
            let mut limit = point("ideal", "speedup", x, &[x.min(2) as f64]);
            limit.language = "machine";
            points.push(limit);
        }
        let text = sentence(&points, |_| true).unwrap();
        assert_eq!(
            text,
            "Against the machine's own line, ideal = 2.00, at workers = 8: Rust fork 1.80 (90% of \
             it), Python threads 0.900 (45% of it)."
        );
        let wall = [point("Rust io-gather", "wall_s", 4, &[0.1])];
        assert_eq!(sentence(&wall, |_| true), None);
        let only_fork = sentence(&points, |s| s == "Rust fork").unwrap();
        assert!(!only_fork.contains("Python"), "{only_fork}");
    }

    #[test]
    fn points_with_too_few_cpus_free_are_named() {
        let mut points = vec![
            point("Rust fork", "speedup", 1, &[1.0]),
            point("Rust fork", "speedup", 2, &[1.2]),
            point("Python fork", "speedup", 2, &[1.1]),
        ];
        points[1].parallelism = 1.1;
        points[2].parallelism = 1.1;
        let text = cpus_sentence(&points, 2).unwrap();
        assert!(
            text.contains("found 1.1 to 2.0 of the 2 cores free"),
            "{text}"
        );
        assert!(text.contains("under 1.5 at workers = 2,"), "{text}");
        let text = cpus_sentence(&points[..1], 2).unwrap();
        assert!(text.contains("every point had at least 1.5"), "{text}");
    }
}
