//! From runs to rows: each variant's median run, its speedup over `sequential`, its parallel
//! efficiency, and the note that sums them up with the memory figures.

use std::time::Duration;

use timing::Row;

use super::memory::fmt_kib;
use super::{Run, Sizes, Variant, expected_total};
use crate::LESSON;

/// What the runs of one variant came to, typed, for the row and the verdicts.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The variant.
    pub variant: Variant,
    /// Threads or processes at once: 1 for sequential.
    pub workers: usize,
    /// The sizes it ran with.
    pub sizes: Sizes,
    /// The run of median wall time.
    pub median: Run,
    /// How many runs there were.
    pub rounds: usize,
    /// The fastest and the slowest run.
    pub range: (Duration, Duration),
    /// Whether every run summed right and every child came back.
    pub correct: bool,
    /// This process's peak memory during the first run.
    pub parent_peak_kib: Option<u64>,
    /// The largest child's own peak memory in the first run, for the process variants.
    pub child_peak_kib: Option<u64>,
    /// How every failed child of every run ended, for the process variants.
    pub failures: Option<Vec<String>>,
    /// Sequential's median wall time over this one's, once known.
    pub speedup: Option<f64>,
}

impl Summary {
    /// The summary of `runs` of `variant` (in the order they ran); `None` for no runs.
    ///
    /// Time is the median run's, not the first's: the first round also pays for waking idle
    /// cores, which made the baseline look slow and every speedup high. Memory is the first
    /// run's: each run's figure is its own, but where the peak cannot be set back between
    /// runs the first is the only one that is not also an earlier variant's.
    pub fn of(variant: Variant, sizes: Sizes, mut runs: Vec<Run>) -> Option<Summary> {
        let expected = expected_total(sizes.n, sizes.workers);
        let ok = |run: &Run| {
            Some(run.total) == expected
                && run
                    .children
                    .as_ref()
                    .is_none_or(|c| c.failures.is_empty() && c.results == sizes.workers)
        };
        let correct = runs.iter().all(ok);
        let first = runs.first()?;
        let (parent_peak_kib, children) = (first.parent_peak_kib, first.children.as_ref());
        let child_peak_kib = children.map(|c| c.peaks_kib.iter().copied().max().unwrap_or(0));
        let failures = children.map(|_| {
            let every = runs.iter().filter_map(|r| r.children.as_ref());
            every.flat_map(|c| c.failures.iter().cloned()).collect()
        });
        runs.sort_by_key(|run| run.wall);
        let range = (runs.first()?.wall, runs.last()?.wall);
        let rounds = runs.len();
        let median = runs.swap_remove(rounds / 2);
        let workers = if variant == Variant::Sequential {
            1
        } else {
            sizes.workers
        };
        Some(Summary {
            variant,
            workers,
            sizes,
            median,
            rounds,
            range,
            correct,
            parent_peak_kib,
            child_peak_kib,
            failures,
            speedup: None,
        })
    }

    /// Speedup over sequential per worker, once the speedup is known.
    pub fn efficiency(&self) -> Option<f64> {
        Some(self.speedup? / self.workers as f64)
    }

    /// The row for the table and the JSON line.
    pub fn row(&self) -> Row {
        let Sizes { n, workers, .. } = self.sizes;
        let expected = expected_total(n, workers).unwrap_or(0);
        let mut row = Row::new(LESSON, self.variant.name())
            .mechanism(self.variant.mechanism())
            .workers(self.workers)
            .items(n.saturating_mul(workers as u64))
            .check(expected, self.median.total)
            .require(self.correct)
            .wall(self.median.wall)
            .extra("peak_rss_kib", self.parent_peak_kib.unwrap_or(0));
        if let Some(kib) = self.child_peak_kib {
            row = row.extra("child_peak_rss_kib", kib);
        }
        if let Some(failures) = &self.failures {
            row = row.extra("failed_children", failures.clone());
        }
        row = row
            .extra("cpus", self.median.cpus)
            .extra("rounds", self.rounds)
            .extra("wall_min_s", self.range.0.as_secs_f64())
            .extra("wall_max_s", self.range.1.as_secs_f64());
        if let (Some(speedup), Some(efficiency)) = (self.speedup, self.efficiency()) {
            row = row
                .extra("speedup", speedup)
                .extra("efficiency", efficiency);
        }
        row.note(self.note())
    }

    /// "1.94x, 97% eff.; 3 runs 12 ms-14 ms; parent 2.9 MiB; + 2 x child <= 772 KiB".
    fn note(&self) -> String {
        let mut note = Vec::new();
        if let (Some(speedup), Some(efficiency)) = (self.speedup, self.efficiency()) {
            note.push(format!("{speedup:.2}x, {:.0}% eff.", efficiency * 100.0));
        }
        if self.rounds > 1 {
            let [min, max] =
                [self.range.0, self.range.1].map(|d| timing::fmt_ns(d.as_nanos() as f64));
            note.push(format!("{} runs {min}-{max}", self.rounds));
        }
        if let Some(kib) = self.parent_peak_kib {
            note.push(format!("parent {}", fmt_kib(kib)));
        }
        if let Some(kib) = self.child_peak_kib {
            note.push(format!("+ {} x child <= {}", self.workers, fmt_kib(kib)));
        }
        if let Some(failures) = self.failures.as_ref().filter(|f| !f.is_empty()) {
            note.push(format!("FAILED: {}", failures.join("; ")));
        }
        note.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::measured;
    use crate::steps::Children;

    const SIZES: Sizes = Sizes {
        n: 4,
        workers: 2,
        rounds: 3,
    };

    /// A run of `ms` milliseconds in which `failed` children failed (fork), summing right
    /// otherwise.
    fn run(ms: u64, failed: &[&str]) -> Run {
        let children = Children {
            total: 12 - 6 * failed.len() as u64,
            results: 2 - failed.len(),
            peaks_kib: vec![ms * 10; 2 - failed.len()],
            failures: failed.iter().map(|f| f.to_string()).collect(),
        };
        Run {
            wall: Duration::from_millis(ms),
            cpus: 1.5,
            parent_peak_kib: Some(ms),
            total: children.total,
            children: Some(children),
        }
    }

    #[test]
    fn the_summary_keeps_the_middle_run_and_every_failure() {
        let runs = vec![run(30, &[]), run(10, &["child 7 killed"]), run(20, &[])];
        let summary = Summary::of(Variant::Fork, SIZES, runs).expect("three runs");
        assert_eq!(summary.median.wall, Duration::from_millis(20));
        assert!(!summary.correct, "one run failed, so the variant fails");
        assert_eq!(summary.failures, Some(vec!["child 7 killed".to_string()]));
        assert_eq!(summary.rounds, 3);
        assert_eq!(
            summary.range,
            (Duration::from_millis(10), Duration::from_millis(30))
        );
        assert_eq!(
            summary.parent_peak_kib,
            Some(30),
            "memory is the first run's"
        );
        assert_eq!(summary.child_peak_kib, Some(300));
        let row = summary.row();
        assert!(!row.correct);
        assert_eq!(
            row.extra["failed_children"],
            serde_json::json!(["child 7 killed"])
        );
        assert!(Summary::of(Variant::Fork, SIZES, Vec::new()).is_none());
    }

    #[test]
    fn speedup_and_efficiency_come_from_the_medians() {
        let sequential = Run {
            children: None,
            wall: Duration::from_millis(40),
            ..run(40, &[])
        };
        let summaries = vec![
            Summary::of(Variant::Sequential, SIZES, vec![sequential]).expect("a run"),
            Summary::of(Variant::Fork, SIZES, vec![run(20, &[])]).expect("a run"),
        ];
        let measured = measured(summaries);
        let fork = &measured[1];
        assert_eq!(fork.summary.speedup, Some(2.0));
        assert_eq!(fork.row.extra["efficiency"], 1.0);
        assert!(fork.row.correct, "{:?}", fork.row);
        assert!(
            fork.row.note.starts_with("2.00x, 100% eff."),
            "{}",
            fork.row.note
        );
        assert_eq!(measured[0].row.workers, 1);
    }
}
