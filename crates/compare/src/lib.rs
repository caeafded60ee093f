//! Side by side: every Python twin in `examples/python/` and its Rust lesson, run on the same
//! machine in one run, paired row by row, with the ratio.
//!
//! Each twin prints, with `--json`, the same fields as the Rust rows plus `"pairs_with"`: the
//! Rust variant it answers. This crate runs both (see [`plan`]), reads their JSON lines
//! ([`parse_rows`]), pairs them and refuses a pair that compares unlike things ([`pair`]),
//! prints the tables ([`table`]) and the sentences about them ([`prose`]), and writes
//! `compare.jsonl`, the Markdown and a chart ([`record`], [`chart`]). It asserts no timing: a run
//! fails only when a result is wrong, a pair is refused, or a twin could not run.
//!
//! Run it with `just compare` (or `cargo build --release --workspace && cargo run --release -p
//! compare`); `--quick` runs small sizes. It refuses to time debug builds ([`lessons`]).

pub mod book;
pub mod broker;
pub mod chart;
pub mod lessons;
pub mod machine;
pub mod pair;
pub mod plan;
pub mod prose;
pub mod record;
pub mod sweep;
pub mod table;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

pub use pair::{Pair, as_expected, pair_rows};
pub use table::{markdown_table, text_table};

/// Every non-empty line of `text` as a JSON object with at least `variant`, `correct` and
/// `wall_s`.
pub fn parse_rows(text: &str) -> Result<Vec<Value>> {
    let mut rows = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let row: Value = serde_json::from_str(line)
            .with_context(|| format!("line {} is not JSON: {line}", i + 1))?;
        for key in ["variant", "correct", "wall_s"] {
            if row.get(key).is_none() {
                bail!("line {} has no \"{key}\": {line}", i + 1);
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{PLANS, Plan};

    // Recorded from real runs of a twin and its binary, trimmed to the fields that matter.
    const PYTHON: &str = r#"
{"lesson":"race-lock","variant":"plus-equals","mechanism":"threads","workers":10,"items":10000,"expected":10000,"result":10000,"correct":true,"wall_s":0.010,"per_s":1000000.0,"pairs_with":"racy"}
{"lesson":"race-lock","variant":"add-one-call","mechanism":"threads","workers":10,"items":10000,"expected":10000,"result":5210,"correct":false,"expected_failure":true,"wall_s":0.020,"per_s":500000.0,"pairs_with":"racy"}
{"lesson":"race-lock","variant":"lock","mechanism":"threads","workers":10,"items":10000,"expected":10000,"result":10000,"correct":true,"wall_s":0.002,"per_s":5000000.0,"p99_ns":12000,"pairs_with":"mutex"}
{"lesson":"race-lock","variant":"semaphore","mechanism":"threads","workers":10,"items":10000,"expected":10000,"result":10000,"correct":true,"wall_s":0.002,"per_s":5000000.0,"pairs_with":"no-such-variant"}
"#;
    const RUST: &str = r#"
{"lesson":"race-lock","variant":"racy","mechanism":"threads","workers":10,"items":10000,"expected":10000,"result":6588,"correct":false,"expected_failure":true,"wall_s":0.001,"per_s":10000000.0}
{"lesson":"race-lock","variant":"mutex","mechanism":"threads","workers":10,"items":10000,"expected":10000,"result":10000,"correct":true,"wall_s":0.0002,"per_s":50000000.0,"p99_ns":900}
"#;

    fn race_lock() -> &'static Plan {
        PLANS.iter().find(|p| p.lesson == "race-lock").unwrap()
    }

    fn pairs() -> (Vec<Pair>, Vec<String>) {
        let python = parse_rows(PYTHON).unwrap();
        let rust = parse_rows(RUST).unwrap();
        pair_rows(race_lock(), &python, &rust)
    }

    #[test]
    fn rows_pair_by_pairs_with() {
        let (pairs, unmatched) = pairs();
        assert_eq!(pairs.len(), 3);
        assert_eq!(pairs[2].python_variant(), "lock");
        assert_eq!(pairs[2].rust_variant(), "mutex");
        assert_eq!(unmatched.len(), 1);
        assert!(unmatched[0].contains("no-such-variant"));
    }

    #[test]
    fn a_pair_of_unlike_things_is_refused() {
        let python = parse_rows(PYTHON).unwrap();
        let mut rust = parse_rows(RUST).unwrap();
        rust[1]["mechanism"] = "processes".into();
        let (pairs, problems) = pair_rows(race_lock(), &python[2..3], &rust);
        assert!(pairs.is_empty());
        assert!(
            problems[0].contains("mechanisms differ (threads against processes)"),
            "{problems:?}"
        );
        rust[1]["mechanism"] = "threads".into();
        rust[1]["items"] = 9999.into();
        let (pairs, problems) = pair_rows(race_lock(), &python[2..3], &rust);
        assert!(pairs.is_empty());
        assert!(
            problems[0].contains("items differ (10000 against 9999)"),
            "{problems:?}"
        );
        rust[1].as_object_mut().unwrap().remove("mechanism");
        let (_, problems) = pair_rows(race_lock(), &python[2..3], &rust);
        assert!(problems[0].contains("names no mechanism"), "{problems:?}");
    }

    #[test]
    fn a_pair_the_plan_marks_cross_mechanism_is_kept_and_labelled() {
        let plan = Plan {
            cross: &[("lock", "mutex")],
            ..*race_lock()
        };
        let python = parse_rows(PYTHON).unwrap();
        let mut rust = parse_rows(RUST).unwrap();
        rust[1]["mechanism"] = "processes".into();
        let (pairs, problems) = pair_rows(&plan, &python[2..3], &rust);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(pairs[0].cross_mechanism);
        let md = markdown_table(&pairs);
        assert!(md.contains("Across mechanisms, on purpose"), "{md}");
        assert!(md.contains("| threads / processes |"), "{md}");
        let json = record::pair_json(&pairs[0]);
        assert_eq!(json["cross_mechanism"], true);
        assert_eq!(json["python_mechanism"], "threads");
    }

    #[test]
    fn speedup_is_the_ratio_of_rates() {
        let (pairs, _) = pairs();
        assert!((pairs[2].speedup() - 10.0).abs() < 1e-9);
        assert!((pairs[0].speedup() - 10.0).abs() < 1e-9);
    }

    #[test]
    fn deliberate_failures_are_as_expected_and_wrong_rows_are_not() {
        let (pairs, _) = pairs();
        assert!(pairs.iter().all(Pair::both_as_expected));
        let wrong: Value =
            serde_json::from_str(r#"{"variant":"v","correct":false,"wall_s":1.0}"#).unwrap();
        assert!(!as_expected(&wrong));
    }

    #[test]
    fn tables_have_a_line_per_pair() {
        let (pairs, _) = pairs();
        let md = markdown_table(&pairs);
        assert_eq!(md.lines().count(), 2 + pairs.len());
        assert!(
            md.contains("| race-lock | lock | mutex | threads |"),
            "{md}"
        );
        assert!(md.contains("10.0x | 12.0 µs / 900 ns |"), "{md}");
        assert!(md.contains("10.0x | - |"), "{md}");
        let text = text_table(&pairs);
        assert!(text.lines().nth(2).unwrap().contains("broken, as meant"));
    }

    #[test]
    fn sentences_carry_the_run_s_figures() {
        let (pairs, _) = pairs();
        let text = prose::sentences(PLANS, &pairs).join("\n");
        assert!(
            text.contains("10.0x to 20.0x Python's over 3 pairs"),
            "{text}"
        );
        assert!(
            text.contains("CPython's `counter += 1` lost 0 of 10 000"),
            "{text}"
        );
        assert!(
            text.contains("`counter = add_one(counter)` lost 4 790 of 10 000"),
            "{text}"
        );
        assert!(text.contains("(`racy`) lost 3 412 of 10 000"), "{text}");
        assert!(!text.contains("task-queue"), "{text}");
        let lines = record::jsonl(&pairs);
        assert_eq!(lines.lines().count(), 3);
    }

    #[test]
    fn a_line_that_is_not_a_row_is_an_error() {
        assert!(parse_rows("Traceback (most recent call last):").is_err());
        assert!(parse_rows(r#"{"variant":"x"}"#).is_err());
    }
}
