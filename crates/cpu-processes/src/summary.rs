//! From runs to the table: each variant's median run, its speedup over `sequential` and its
//! parallel efficiency, and the note that sums them up with the memory figures.

use timing::Row;

use crate::memory;

/// The run of median wall time among `runs` of one variant (in the order they ran), as its row:
/// with `rounds`, `wall_min_s` and `wall_max_s` added, correct only if every run was, and every
/// failed child of every run listed.
///
/// The memory figures are the *first* run's: `getrusage`'s peaks only ever grow, so in later
/// rounds every variant would show the largest peak of any variant before it. Time is the
/// median, not the first run's: the first round also pays for waking idle cores, which made
/// the baseline, `sequential`, look slow and every speedup high. `None` for no runs.
pub fn median_of(mut runs: Vec<Row>) -> Option<Row> {
    let memory: Vec<(String, serde_json::Value)> = ["peak_rss_kib", "child_peak_rss_kib"]
        .into_iter()
        .filter_map(|key| Some((key.to_string(), runs.first()?.extra.get(key)?.clone())))
        .collect();
    runs.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    let (min, max) = (runs.first()?.wall_s, runs.last()?.wall_s);
    let all_correct = runs.iter().all(|r| r.correct);
    let failed: Vec<serde_json::Value> = runs
        .iter()
        .filter_map(|r| r.extra.get("failed_children")?.as_array().cloned())
        .flatten()
        .collect();
    let had_children = runs.iter().any(|r| r.extra.contains_key("failed_children"));
    let rounds = runs.len();
    let mut row = runs.swap_remove(rounds / 2).require(all_correct);
    row.extra.extend(memory);
    if had_children {
        row = row.extra("failed_children", failed);
    }
    Some(
        row.extra("rounds", rounds)
            .extra("wall_min_s", min)
            .extra("wall_max_s", max),
    )
}

/// Adds `speedup` (sequential wall / this wall) and `efficiency` (speedup / workers) to every row,
/// when a `sequential` row is among them, and a note summing up speed and memory.
pub fn annotate(rows: &mut [Row]) {
    let baseline = rows
        .iter()
        .find(|r| r.variant == "sequential")
        .map(|r| r.wall_s);
    for row in rows.iter_mut() {
        let mut note = Vec::new();
        if let Some(base) = baseline.filter(|_| row.wall_s > 0.0) {
            let speedup = base / row.wall_s;
            let efficiency = speedup / row.workers as f64;
            row.extra.insert("speedup".into(), speedup.into());
            row.extra.insert("efficiency".into(), efficiency.into());
            note.push(format!("{speedup:.2}x, {:.0}% eff.", efficiency * 100.0));
        }
        let rounds = row
            .extra
            .get("rounds")
            .and_then(|v| v.as_u64())
            .unwrap_or(1);
        let range = ["wall_min_s", "wall_max_s"].map(|k| row.extra.get(k).and_then(|v| v.as_f64()));
        if let (true, [Some(min), Some(max)]) = (rounds > 1, range) {
            let (min, max) = (timing::fmt_ns(min * 1e9), timing::fmt_ns(max * 1e9));
            note.push(format!("{rounds} runs {min}-{max}"));
        }
        if let Some(kib) = row.extra.get("peak_rss_kib").and_then(|v| v.as_u64()) {
            note.push(format!("parent {}", memory::fmt_kib(kib)));
        }
        if let Some(kib) = row.extra.get("child_peak_rss_kib").and_then(|v| v.as_u64()) {
            note.push(format!(
                "+ {} x child <= {}",
                row.workers,
                memory::fmt_kib(kib)
            ));
        }
        let failed = row.extra.get("failed_children").and_then(|v| v.as_array());
        if let Some(failed) = failed.filter(|f| !f.is_empty()) {
            let causes: Vec<_> = failed.iter().filter_map(|f| f.as_str()).collect();
            note.push(format!("FAILED: {}", causes.join("; ")));
        }
        row.note = note.join("; ");
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::LESSON;

    #[test]
    fn median_of_keeps_the_middle_run_and_every_failure() {
        let run = |ms, failed: &[&str]| {
            Row::new(LESSON, "fork")
                .check(1, 1)
                .require(failed.is_empty())
                .wall(Duration::from_millis(ms))
                .extra("failed_children", failed.to_vec())
                .extra("peak_rss_kib", ms)
        };
        let row = median_of(vec![
            run(30, &[]),
            run(10, &["child 7 killed"]),
            run(20, &[]),
        ]);
        let row = row.expect("three runs");
        assert_eq!(row.wall_time(), Duration::from_millis(20));
        assert!(!row.correct, "one run failed, so the row fails");
        assert_eq!(
            row.extra["failed_children"],
            serde_json::json!(["child 7 killed"])
        );
        assert_eq!(row.extra["rounds"], 3);
        assert_eq!(row.extra["wall_min_s"], 0.01);
        assert_eq!(row.extra["wall_max_s"], 0.03);
        assert_eq!(row.extra["peak_rss_kib"], 30, "memory is the first run's");
        assert!(median_of(Vec::new()).is_none());
    }

    #[test]
    fn annotate_computes_speedup_and_efficiency() {
        let mut rows = vec![
            Row::new(LESSON, "sequential").wall(Duration::from_millis(200)),
            Row::new(LESSON, "threads")
                .workers(2)
                .wall(Duration::from_millis(100)),
        ];
        annotate(&mut rows);
        assert_eq!(rows[1].extra["speedup"], 2.0);
        assert_eq!(rows[1].extra["efficiency"], 1.0);
        assert!(
            rows[1].note.starts_with("2.00x, 100% eff."),
            "{}",
            rows[1].note
        );
    }
}
