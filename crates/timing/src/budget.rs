//! Long runs speak: a run expected to take more than a few seconds says so on stderr before it
//! starts, and one that would take more than about ten minutes is refused, with what to pass
//! instead.

use std::time::Duration;

use crate::{fmt_count, usage_error};

/// Runs expected to take longer than this say so on stderr before they start.
pub const ANNOUNCE_AFTER: Duration = Duration::from_secs(3);

/// Runs expected to take longer than this are refused as bad input (exit status 2).
pub const REFUSE_AFTER: Duration = Duration::from_secs(600);

/// How long `items` will take at the rate a pilot run measured (`pilot_items` in `pilot_time`).
pub fn extrapolate(pilot_items: u64, pilot_time: Duration, items: u64) -> Duration {
    if pilot_items == 0 {
        return Duration::ZERO;
    }
    pilot_time.mul_f64(items as f64 / pilot_items as f64)
}

/// Refuses a run estimated past [`REFUSE_AFTER`], saying how long it would take and what to
/// pass instead; announces on stderr one estimated past [`ANNOUNCE_AFTER`]. `what` names the
/// run ("condvar with 100 000 000 items").
pub fn check_duration(what: &str, estimate: Duration, instead: &str) -> anyhow::Result<()> {
    if estimate > REFUSE_AFTER {
        return Err(usage_error(format!(
            "{what} would take about {}, over the {} this program allows: {instead}",
            fmt_minutes(estimate),
            fmt_minutes(REFUSE_AFTER)
        )));
    }
    if estimate > ANNOUNCE_AFTER {
        eprintln!("{what}: about {} ...", fmt_minutes(estimate));
    }
    Ok(())
}

/// A duration as people say it: "45 s", "3 min 20 s", "2 h 5 min".
pub fn fmt_minutes(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", fmt_count(s / 3600), (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_scale_with_the_items() {
        let pilot = Duration::from_millis(100);
        assert_eq!(extrapolate(1_000, pilot, 10_000), Duration::from_secs(1));
        assert_eq!(extrapolate(0, pilot, 10), Duration::ZERO);
    }

    #[test]
    fn long_runs_are_refused_with_their_length() {
        let err = check_duration("x", Duration::from_secs(7200), "pass less").unwrap_err();
        assert!(err.is::<crate::UsageError>());
        assert_eq!(
            err.to_string(),
            "x would take about 2 h 0 min, over the 10 min 0 s this program allows: pass less"
        );
        assert!(check_duration("x", Duration::from_secs(1), "").is_ok());
    }

    #[test]
    fn minutes_read_as_people_say_them() {
        assert_eq!(fmt_minutes(Duration::from_secs(45)), "45 s");
        assert_eq!(fmt_minutes(Duration::from_secs(200)), "3 min 20 s");
        assert_eq!(fmt_minutes(Duration::from_secs(7500)), "2 h 5 min");
    }
}
