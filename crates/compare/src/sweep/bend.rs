//! Where a curve bends, computed from its points rather than read off a chart by eye.
//!
//! Read on log-log axes, where a power law is a straight line and "each doubling of x multiplies
//! y by f" is its slope. The bend is where two straight lines, one through the points up to it and
//! one through the points from it, fit the curve best (least squares). One noisy point moves a
//! two-line fit far less than it moves the steepest change between neighbouring slopes.

/// A curve's shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// Two slopes meeting at a point.
    Bends {
        /// The point where they meet.
        x: u64,
        /// What each doubling of x multiplied y by, up to it.
        before: f64,
        /// The same from it on.
        after: f64,
    },
    /// One slope throughout: what each doubling of x multiplied y by.
    Straight(f64),
}

/// Two slopes must differ by this much (a factor of 1.15 a doubling) to count as a bend.
const MIN_CHANGE: f64 = 0.2;

/// The shape of a curve of at least four points, all above zero; `None` otherwise. Two lines fit
/// any three points exactly, so a bend in three would be whatever the noise made it.
pub fn shape(curve: &[(u64, f64)]) -> Option<Shape> {
    if curve.len() < 4 || curve.iter().any(|&(x, y)| x == 0 || y <= 0.0) {
        return None;
    }
    let logs: Vec<(f64, f64)> = curve
        .iter()
        .map(|&(x, y)| ((x as f64).ln(), y.ln()))
        .collect();
    // Each line needs two points, so the bend is an inner point.
    let (k, (before, after)) = (1..logs.len() - 1)
        .map(|k| (k, (fit(&logs[..=k]), fit(&logs[k..]))))
        .min_by(|a, b| {
            let sse = |f: &(Fit, Fit)| f.0.sse + f.1.sse;
            sse(&a.1).total_cmp(&sse(&b.1))
        })?;
    let per_doubling = |slope: f64| 2f64.powf(slope);
    Some(if (after.slope - before.slope).abs() >= MIN_CHANGE {
        Shape::Bends {
            x: curve[k].0,
            before: per_doubling(before.slope),
            after: per_doubling(after.slope),
        }
    } else {
        Shape::Straight(per_doubling(fit(&logs).slope))
    })
}

/// A least-squares line: its slope and the sum of its squared misses.
#[derive(Debug, Clone, Copy)]
struct Fit {
    slope: f64,
    sse: f64,
}

/// The least-squares line through `points` (at least two, with different x).
fn fit(points: &[(f64, f64)]) -> Fit {
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let sse = points
        .iter()
        .map(|p| (p.1 - mean_y - slope * (p.0 - mean_x)).powi(2))
        .sum();
    Fit { slope, sse }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bends(curve: &[(u64, f64)]) -> (u64, f64, f64) {
        match shape(curve) {
            Some(Shape::Bends { x, before, after }) => (x, before, after),
            other => panic!("no bend: {other:?}"),
        }
    }

    #[test]
    fn a_flat_then_halving_curve_bends_where_it_starts_to_fall() {
        let (x, before, after) =
            bends(&[(1, 100.0), (2, 100.0), (4, 100.0), (8, 50.0), (16, 25.0)]);
        assert_eq!(x, 4);
        assert!((before - 1.0).abs() < 1e-9 && (after - 0.5).abs() < 1e-9);
    }

    #[test]
    fn one_noisy_point_does_not_move_the_bend() {
        // Falling to 8, then flat, with a dip at 32 that a neighbour-to-neighbour rule would
        // call the bend.
        let curve = [
            (1, 80.0),
            (2, 40.0),
            (4, 20.0),
            (8, 10.0),
            (16, 10.0),
            (32, 8.0),
            (64, 10.0),
        ];
        let (x, before, after) = bends(&curve);
        assert_eq!(x, 8);
        assert!((before - 0.5).abs() < 1e-9, "{before}");
        assert!((after - 1.0).abs() < 0.1, "{after}");
    }

    #[test]
    fn a_power_law_is_straight_and_zeros_or_few_points_have_no_shape() {
        assert_eq!(
            shape(&[(1, 1.0), (2, 2.0), (4, 4.0), (8, 8.0)]),
            Some(Shape::Straight(2.0))
        );
        assert_eq!(shape(&[(1, 1.0), (2, 0.0), (4, 4.0), (8, 8.0)]), None);
        assert_eq!(shape(&[(1, 1.0), (2, 2.0), (4, 8.0)]), None);
    }
}
