//! From runs to a summary: each variant's median run, its range, the rounds that went wrong,
//! its speedup over `sequential` and its parallel efficiency. Its row and note: `row.rs`.

use std::time::Duration;

use super::{Run, Sizes, Variant, expected_total};

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
    /// Each run that did not, as (round, counting from 1, in the order they ran; its total).
    pub wrong_rounds: Vec<(usize, u64)>,
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
        // Numbered before sorting by time below: a round is named as it ran.
        let numbered = runs.iter().zip(1_usize..);
        let wrong_rounds: Vec<(usize, u64)> = numbered
            .clone()
            .filter(|(run, _)| !ok(run))
            .map(|(run, round)| (round, run.total))
            .collect();
        let first = runs.first()?;
        let (parent_peak_kib, children) = (first.parent_peak_kib, first.children.as_ref());
        let child_peak_kib = children.map(|c| c.peaks_kib.iter().copied().max().unwrap_or(0));
        let failures = children.map(|_| {
            let every = numbered.filter_map(|(run, round)| Some((run.children.as_ref()?, round)));
            every
                .flat_map(|(c, round)| {
                    c.failures
                        .iter()
                        .map(move |f| format!("round {round}: {f}"))
                })
                .collect()
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
            correct: wrong_rounds.is_empty(),
            wrong_rounds,
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
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::steps::Children;

    pub(in crate::measure) const SIZES: Sizes = Sizes {
        n: 4,
        workers: 2,
        rounds: 3,
    };

    /// A run of `ms` milliseconds in which `failed` children failed (fork), summing right
    /// otherwise.
    pub(in crate::measure) fn run(ms: u64, failed: &[&str]) -> Run {
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
        assert_eq!(
            summary.failures,
            Some(vec!["round 2: child 7 killed".to_string()])
        );
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
            serde_json::json!(["round 2: child 7 killed"])
        );
        assert!(Summary::of(Variant::Fork, SIZES, Vec::new()).is_none());
    }
}
