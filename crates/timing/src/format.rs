//! Human units for the table: `1.24 ms`, `3.10 M/s`, `3 412`.

use std::time::Duration;

/// A count with its thousands grouped by spaces: `3 412`, `10 000 000`.
pub fn fmt_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A duration in the unit that keeps three significant digits: `850 ns`, `12.3 µs`, `1.24 ms`.
pub fn fmt_duration(d: Duration) -> String {
    fmt_ns(d.as_secs_f64() * 1e9)
}

/// Like [`fmt_duration`], from nanoseconds.
pub fn fmt_ns(ns: f64) -> String {
    const UNITS: [(f64, &str); 4] = [(1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns")];
    for (scale, unit) in UNITS {
        if ns >= scale {
            return format!("{} {unit}", three_digits(ns / scale));
        }
    }
    format!("{} ns", three_digits(ns.max(0.0)))
}

/// A rate per second with an SI prefix: `845 k/s`, `3.10 M/s`, `1.84 G/s`.
pub fn fmt_rate(per_s: f64) -> String {
    format!("{}/s", si(per_s))
}

/// Bytes per second: `2.50 GB/s` (decimal units, as disks and networks quote them).
pub fn fmt_bytes_rate(bytes_per_s: f64) -> String {
    format!("{}B/s", si(bytes_per_s))
}

fn si(x: f64) -> String {
    const PREFIXES: [(f64, &str); 4] = [(1e12, " T"), (1e9, " G"), (1e6, " M"), (1e3, " k")];
    for (scale, prefix) in PREFIXES {
        if x >= scale {
            return format!("{}{prefix}", three_digits(x / scale));
        }
    }
    format!("{} ", three_digits(x.max(0.0)))
}

/// `x` (at least 1, below 1000, or 0) to three significant digits.
fn three_digits(x: f64) -> String {
    if x >= 99.95 {
        format!("{x:.0}")
    } else if x >= 9.995 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_in_threes() {
        assert_eq!(fmt_count(0), "0");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_count(3412), "3 412");
        assert_eq!(fmt_count(10_000_000), "10 000 000");
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(fmt_duration(Duration::from_nanos(850)), "850 ns");
        assert_eq!(fmt_duration(Duration::from_nanos(12_345)), "12.3 µs");
        assert_eq!(fmt_duration(Duration::from_micros(1_240)), "1.24 ms");
        assert_eq!(fmt_duration(Duration::from_millis(3_100)), "3.10 s");
        assert_eq!(fmt_duration(Duration::ZERO), "0.00 ns");
    }

    #[test]
    fn rates_pick_their_prefix() {
        assert_eq!(fmt_rate(845_000.0), "845 k/s");
        assert_eq!(fmt_rate(3_100_000.0), "3.10 M/s");
        assert_eq!(fmt_rate(12.0), "12.0 /s");
        assert_eq!(fmt_bytes_rate(2.5e9), "2.50 GB/s");
    }
}
