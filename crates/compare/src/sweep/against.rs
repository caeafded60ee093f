//! How near each series came to the machine's own limit (ideal speedup, memcpy, one delay), at
//! the largest point: the sentence that says whether a curve flattened against the machine or
//! against its own overhead.

use super::record::Point;
use super::words::{figure, series_names};

/// One sentence naming the limit at the largest point it shares with the series of its figure,
/// and each series' figure there as a share (below the limit) or a multiple (above) of it; `None`
/// when the lesson has no limit.
pub fn sentence(points: &[Point]) -> Option<String> {
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
    for name in series_names(points) {
        let Some(p) = points.iter().find(|p| {
            p.series == name && p.x == x && p.y_name == at.y_name && p.language != "machine"
        }) else {
            continue;
        };
        let ratio = p.y.median / at.y.median;
        let share = if ratio < 1.0 {
            format!("{:.0}% of it", ratio * 100.0)
        } else {
            format!("{ratio:.1}x it")
        };
        parts.push(format!("{name} {} ({share})", figure(p.y.median)));
    }
    (!parts.is_empty()).then(|| {
        format!(
            "Against the limit, {} = {}, at {} = {x}: {}.",
            at.series,
            figure(at.y.median),
            at.x_name,
            parts.join(", ")
        )
    })
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
        let text = sentence(&points).unwrap();
        assert_eq!(
            text,
            "Against the limit, ideal = 2.00, at workers = 8: Rust fork 1.80 (90% of it), \
             Python threads 0.900 (45% of it)."
        );
        let wall = [point("Rust io-gather", "wall_s", 4, &[0.1])];
        assert_eq!(sentence(&wall), None);
    }
}
