//! From a summary to its row for the table and the JSON line, and the note that sums it up
//! with the memory figures.

use timing::Row;

use super::memory::fmt_kib;
use super::{Sizes, Summary, expected_total};
use crate::LESSON;

impl Summary {
    /// The row for the table and the JSON line. Its `result` is the median run's total, or,
    /// when a run went wrong, the first wrong run's: "WRONG" stands beside the total that was
    /// wrong, not beside a right one from another round.
    pub fn row(&self) -> Row {
        let Sizes { n, workers, .. } = self.sizes;
        let expected = expected_total(n, workers).unwrap_or(0);
        let shown = self.wrong_rounds.first().map_or(self.median.total, |w| w.1);
        let mut row = Row::new(LESSON, self.variant.name())
            .mechanism(self.variant.mechanism())
            .workers(self.workers)
            .items(n.saturating_mul(workers as u64))
            .check(expected, shown)
            .require(self.correct)
            .wall(self.median.wall)
            .extra("peak_rss_kib", self.parent_peak_kib.unwrap_or(0));
        if let Some(kib) = self.child_peak_kib {
            row = row.extra("child_peak_rss_kib", kib);
        }
        if let Some(failures) = &self.failures {
            row = row.extra("failed_children", failures.clone());
        }
        let wrong: Vec<usize> = self.wrong_rounds.iter().map(|w| w.0).collect();
        row = row.extra("wrong_rounds", wrong);
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
        // With one round the check cell says it all; with more, which ones, and whose total.
        if let Some(&(round, _)) = self.wrong_rounds.first().filter(|_| self.rounds > 1) {
            let list: Vec<String> = self.wrong_rounds.iter().map(|w| w.0.to_string()).collect();
            let which = if list.len() == 1 { "round" } else { "rounds" };
            note.push(format!(
                "WRONG in {which} {} of {} (check: round {round}'s total)",
                list.join(", "),
                self.rounds
            ));
        }
        if let Some(failures) = self.failures.as_ref().filter(|f| !f.is_empty()) {
            note.push(format!("FAILED: {}", failures.join("; ")));
        }
        note.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::measure::summary::tests::{SIZES, run};
    use crate::measure::{Run, Variant, measured};

    #[test]
    fn a_wrong_round_that_is_not_the_median_shows_its_own_total() {
        // Round 2 lost a child and is the fastest, so the median is round 3, which summed right.
        let runs = vec![run(30, &[]), run(10, &["child 7 killed"]), run(20, &[])];
        let row = Summary::of(Variant::Spawn, SIZES, runs)
            .expect("runs")
            .row();
        assert!(!row.correct);
        assert_eq!(
            (row.expected, row.result),
            (12, 6),
            "the wrong round's total"
        );
        assert_eq!(row.extra["wrong_rounds"], serde_json::json!([2]));
        assert!(row.note.contains("WRONG in round 2 of 3"), "{}", row.note);
        let all_right = vec![run(30, &[]), run(20, &[])];
        let row = Summary::of(Variant::Spawn, SIZES, all_right)
            .expect("runs")
            .row();
        assert_eq!((row.result, row.correct), (12, true));
        assert_eq!(row.extra["wrong_rounds"], serde_json::json!([]));
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
