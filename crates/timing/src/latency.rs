//! Latency percentiles, recorded into an `hdrhistogram`.

use std::time::Duration;

use hdrhistogram::Histogram;

/// A record of many latencies, answering p50, p99 and max in nanoseconds.
///
/// An HDR histogram keeps three significant digits over any range in a fixed few kilobytes, so
/// recording a million samples costs no allocation and no sorting. Each thread records into its
/// own `Latencies` (recording takes `&mut self`, no lock), and the lesson [`merge`]s them after
/// the threads are joined, so measuring does not add contention to what is measured.
///
/// [`merge`]: Latencies::merge
#[derive(Debug, Clone)]
pub struct Latencies {
    histogram: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    /// An empty record.
    pub fn new() -> Self {
        // Three significant digits; the histogram grows its range as larger values arrive.
        let histogram =
            Histogram::new(3).expect("3 significant digits is within hdrhistogram's 0..=5");
        Self { histogram }
    }

    /// Records one latency.
    pub fn record(&mut self, latency: Duration) {
        self.record_ns(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Records one latency given in nanoseconds.
    pub fn record_ns(&mut self, nanos: u64) {
        // An auto-resizing histogram grows to fit; `record` fails only for values past its
        // largest possible range, which are clamped rather than lost.
        if self.histogram.record(nanos).is_err() {
            self.histogram.saturating_record(nanos);
        }
    }

    /// Adds every sample of `other` to this record.
    pub fn merge(&mut self, other: &Latencies) {
        // Both histograms auto-resize, so adding can only fail on allocation, which aborts anyway.
        self.histogram
            .add(&other.histogram)
            .expect("auto-resizing histograms accept any range");
    }

    /// How many samples were recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The median, in nanoseconds (0 when empty).
    pub fn p50_ns(&self) -> u64 {
        self.histogram.value_at_quantile(0.50)
    }

    /// The 99th percentile, in nanoseconds (0 when empty).
    pub fn p99_ns(&self) -> u64 {
        self.histogram.value_at_quantile(0.99)
    }

    /// The largest sample, in nanoseconds (0 when empty).
    pub fn max_ns(&self) -> u64 {
        self.histogram.max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_one_to_a_thousand() {
        let mut lat = Latencies::new();
        for ns in 1..=1000 {
            lat.record_ns(ns);
        }
        assert_eq!(lat.count(), 1000);
        // Three significant digits: within 0.1 % of the exact rank.
        assert!((499..=501).contains(&lat.p50_ns()), "{}", lat.p50_ns());
        assert!((989..=991).contains(&lat.p99_ns()), "{}", lat.p99_ns());
        assert!((999..=1001).contains(&lat.max_ns()), "{}", lat.max_ns());
    }

    #[test]
    fn merge_adds_samples() {
        let mut a = Latencies::new();
        let mut b = Latencies::new();
        a.record(Duration::from_micros(1));
        b.record(Duration::from_millis(3));
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert!(a.max_ns() >= 3_000_000);
    }

    #[test]
    fn empty_is_zero() {
        let lat = Latencies::new();
        assert_eq!((lat.p50_ns(), lat.p99_ns(), lat.max_ns()), (0, 0, 0));
    }
}
