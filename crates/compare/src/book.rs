//! The book's figures: each lesson's rows and chart from a full run, as files its chapter
//! includes (`book/src/generated/<lesson>.md` and `.svg`), and the whole table and chart for the
//! side-by-side page. Written by the run that measured them, never by hand.

use std::path::Path;

use anyhow::{Context as _, Result};

use crate::plan::Plan;
use crate::{Pair, chart, prose, record};

/// Writes `<lesson>.md` and `<lesson>.svg` for every plan that has pairs, and `side-by-side.md`
/// and `side-by-side.svg` for all of them, into `dir`.
pub fn write(
    dir: &Path,
    command: &str,
    machine: &str,
    plans: &[Plan],
    pairs: &[Pair],
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for plan in plans {
        let mine: Vec<Pair> = pairs
            .iter()
            .filter(|p| p.lesson == plan.lesson)
            .cloned()
            .collect();
        if mine.is_empty() {
            continue;
        }
        let sentences = prose::sentences(std::slice::from_ref(plan), &mine);
        write_one(
            dir,
            plan.lesson,
            command,
            (machine, plans),
            &mine,
            &sentences,
        )?;
    }
    let sentences = prose::sentences(plans, pairs);
    write_one(
        dir,
        "side-by-side",
        command,
        (machine, plans),
        pairs,
        &sentences,
    )
}

/// One Markdown file (the dated table, its sentences, then the chart) and its SVG.
fn write_one(
    dir: &Path,
    name: &str,
    command: &str,
    (machine, plans): (&str, &[Plan]),
    pairs: &[Pair],
    sentences: &[String],
) -> Result<()> {
    let svg = dir.join(format!("{name}.svg"));
    chart::write_svg(plans, pairs, machine, &svg)?;
    // The chapter that includes this file sits one level up, beside `generated/`.
    let body = format!(
        "{}\n![Python and Rust rates, {name}](generated/{name}.svg)\n",
        record::markdown(command, machine, pairs, sentences)
    );
    let md = dir.join(format!("{name}.md"));
    std::fs::write(&md, body).with_context(|| format!("writing {}", md.display()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::plan::PLANS;

    fn pair(lesson: &str, python: &str, rust: &str) -> Pair {
        let row = |variant: &str, per_s: f64| {
            json!({"lesson": lesson, "variant": variant, "mechanism": "threads", "items": 10,
                   "expected": 10, "result": 10, "correct": true, "wall_s": 0.1, "per_s": per_s})
        };
        Pair {
            lesson: lesson.to_string(),
            python: row(python, 100.0),
            rust: row(rust, 1000.0),
            cross_mechanism: false,
        }
    }

    #[test]
    fn each_lesson_gets_its_own_rows_and_chart_and_the_page_gets_all() {
        let dir = tempfile::tempdir().unwrap();
        let pairs = [
            pair("race-lock", "lock", "mutex"),
            pair("cpu-processes", "fork", "fork"),
        ];
        write(dir.path(), "just compare", "a machine", PLANS, &pairs).unwrap();
        let race = std::fs::read_to_string(dir.path().join("race-lock.md")).unwrap();
        assert!(race.contains("| lock | mutex |"), "{race}");
        assert!(!race.contains("| fork |"), "{race}");
        assert!(race.contains("](generated/race-lock.svg)"));
        assert!(dir.path().join("race-lock.svg").exists());
        assert!(!dir.path().join("queue-ipc.md").exists());
        let all = std::fs::read_to_string(dir.path().join("side-by-side.md")).unwrap();
        assert!(
            all.contains("| lock | mutex |") && all.contains("| fork | fork |"),
            "{all}"
        );
    }
}
