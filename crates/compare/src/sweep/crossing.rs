//! Where one curve passes another: the message size from which shared memory moves more than a
//! pipe, the count from which threads hold more memory than tasks. Told from the figures, for
//! pairs of the same language in the same panel (across languages the gap is the language's).

use super::record::Point;
use super::words::{figure, series_names};

/// Two curves cross only if each is this many times the other at one end: a gap of a few
/// percent at both ends is noise on a shared machine, not a crossing.
const CLEAR: f64 = 1.2;

/// One sentence for each pair of series of one language and one figure that change places
/// clearly between the smallest and the largest x they share.
pub fn sentences(points: &[Point]) -> Vec<String> {
    let names = series_names(points);
    let mut out = Vec::new();
    for (i, a) in names.iter().enumerate() {
        for b in &names[i + 1..] {
            if let Some(text) = crossing(points, a, b).or_else(|| crossing(points, b, a)) {
                out.push(text);
            }
        }
    }
    out
}

/// The points of series `name`.
fn of<'a>(points: &'a [Point], name: &'a str) -> impl Iterator<Item = &'a Point> + 'a {
    points.iter().filter(move |p| p.series == name)
}

/// The sentence if `a` starts clearly below `b` and ends clearly above it.
fn crossing(points: &[Point], a: &str, b: &str) -> Option<String> {
    let first = of(points, a).next()?;
    let other = of(points, b).next()?;
    if first.language == "machine"
        || first.language != other.language
        || first.y_name != other.y_name
    {
        return None;
    }
    // (x, a's figure over b's) wherever both have a point above zero.
    let ratios: Vec<(u64, f64)> = of(points, a)
        .filter_map(|p| {
            let q = of(points, b).find(|q| q.x == p.x)?;
            (p.y.median > 0.0 && q.y.median > 0.0).then(|| (p.x, p.y.median / q.y.median))
        })
        .collect();
    let (start, end) = (ratios.first()?, ratios.last()?);
    if start.1 > 1.0 / CLEAR || end.1 < CLEAR {
        return None;
    }
    // The first x from which a stays above b to the end.
    let from = ratios
        .iter()
        .rposition(|r| r.1 <= 1.0)
        .map_or(start.0, |k| ratios[k + 1].0);
    Some(format!(
        "{a}'s {} rises above {b}'s from {} = {from} on: {} times it at {}, {} times it at {}.",
        first.y_name,
        first.x_name,
        figure(start.1),
        start.0,
        figure(end.1),
        end.0
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::record::tests::point;

    #[test]
    fn a_clear_crossing_is_told_where_it_holds_from() {
        let mut points = Vec::new();
        for (x, pipe, ring) in [(16, 100.0, 50.0), (256, 200.0, 190.0), (4096, 300.0, 900.0)] {
            points.push(point("Rust pipe", "per_s", x, &[pipe]));
            points.push(point("Rust ring", "per_s", x, &[ring]));
            points.push(point("Python pipe", "per_s", x, &[pipe / 10.0]));
        }
        assert_eq!(
            sentences(&points),
            [
                "Rust ring's per_s rises above Rust pipe's from workers = 4096 on: 0.500 times it \
                 at 16, 3.00 times it at 4096."
            ]
        );
    }

    #[test]
    fn a_gap_that_only_narrows_or_stays_within_noise_is_no_crossing() {
        let mut points = Vec::new();
        for (x, a, b) in [(1, 100.0, 110.0), (2, 100.0, 95.0), (4, 100.0, 90.0)] {
            points.push(point("Rust a", "per_s", x, &[a]));
            points.push(point("Rust b", "per_s", x, &[b]));
        }
        assert!(sentences(&points).is_empty());
    }
}
