//! A point's figure over its runs: the median, with the least and the most beside it so a
//! reader sees how much the runs disagreed.

/// The median and range of a point's runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// The middle run (the mean of the two middle ones for an even count).
    pub median: f64,
    /// The least run.
    pub min: f64,
    /// The most run.
    pub max: f64,
    /// How many runs.
    pub runs: usize,
}

/// The summary of `values`, or `None` when there are none (or one is NaN, which would sort
/// nowhere: a figure that is not a number is not a measurement).
pub fn summarise(values: &[f64]) -> Option<Summary> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    Some(Summary {
        median,
        min: sorted[0],
        max: sorted[n - 1],
        runs: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_run_and_the_range_its_ends() {
        let s = summarise(&[3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.runs), (2.0, 1.0, 3.0, 3));
        let s = summarise(&[4.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (3.0, 1.0, 10.0));
        let s = summarise(&[7.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.runs), (7.0, 7.0, 7.0, 1));
    }

    #[test]
    fn nothing_or_not_a_number_has_no_summary() {
        assert_eq!(summarise(&[]), None);
        assert_eq!(summarise(&[1.0, f64::NAN]), None);
    }
}
