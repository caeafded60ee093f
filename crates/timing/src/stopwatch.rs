//! Wall-clock timing.

use std::time::{Duration, Instant};

/// Measures wall time from the moment it is started.
///
/// `Instant` is monotonic (`CLOCK_MONOTONIC` on Linux), so a stopwatch never runs backwards when
/// the system clock is adjusted, which `SystemTime` can.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch {
    started: Instant,
}

impl Stopwatch {
    /// Starts a stopwatch now.
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
        }
    }

    /// The time since [`Stopwatch::start`].
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Runs `f` and returns its value with the wall time it took.
    pub fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
        let watch = Self::start();
        let value = f();
        (value, watch.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_returns_the_value_and_a_duration_covering_the_work() {
        let (value, took) = Stopwatch::time(|| {
            std::thread::sleep(Duration::from_millis(2));
            7
        });
        assert_eq!(value, 7);
        assert!(took >= Duration::from_millis(2));
    }
}
