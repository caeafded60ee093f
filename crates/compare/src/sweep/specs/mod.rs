//! What each lesson sweeps, at which points, with which sizes, and which lines it draws.
//!
//! Sizes are picked so that one run of both sides at the largest point takes a few seconds on
//! two cores, and [`Spec::seconds`] says about how long: the ten-minute refusal trusts it.

mod cores;
mod tasks;
mod waits;

use super::{Cap, Lang, Series, Spec, Y};

/// Every lesson swept, in the order the tutorials teach them.
pub const SPECS: &[Spec] = &[
    tasks::THREADS_BASIC,
    waits::THREADS_MEMORY,
    cores::RACE_LOCK,
    cores::CPU_PROCESSES,
    cores::QUEUE_IPC,
    cores::POOL_BATCH,
    tasks::EXECUTOR_COMPLETED,
    waits::ASYNC_WAITS,
    waits::ASYNC_HEARTBEAT,
    tasks::TASK_QUEUE,
];

/// A series of `lang`'s `variant` reading `y`, named `name` in the legend.
const fn line(name: &'static str, lang: Lang, variant: &'static str, y: Y) -> Series {
    Series {
        name,
        lang,
        variant,
        y,
        upto: u64::MAX,
        cap: Cap::None,
    }
}

/// One invocation's arguments: `--variant V` for each of `variants`, then `--flag value` pairs.
pub fn args(variants: &[&str], more: &[(&str, u64)]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in variants {
        out.extend(["--variant".to_string(), v.to_string()]);
    }
    for (flag, value) in more {
        out.push(format!("--{flag}"));
        out.push(value.to_string());
    }
    out
}

/// Messages at `bytes` each: 64 MiB in all, between 64 and 50 000 of them, so the small messages
/// are many enough to time and the large ones few enough to finish.
fn messages(bytes: u64) -> u64 {
    ((64 << 20) / bytes).clamp(64, 50_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_sweep_is_estimated_inside_its_limits() {
        let full: f64 = SPECS.iter().map(|s| s.estimate(false, 3)).sum();
        let quick: f64 = SPECS.iter().map(|s| s.estimate(true, 1)).sum();
        assert!(full < 600.0, "a full run is estimated at {full:.0} s");
        let mut charts: Vec<&str> = SPECS.iter().map(|s| s.chart).collect();
        charts.sort_unstable();
        charts.dedup();
        assert_eq!(charts.len(), SPECS.len(), "two sweeps share a chart");
        assert!(quick < 120.0, "a quick run is estimated at {quick:.0} s");
        for spec in SPECS {
            assert!((2..=3).contains(&spec.quick.len()), "{}", spec.chart);
            assert!(spec.series.iter().all(|s| !s.variant.is_empty()));
        }
    }
}
