//! "How to read it": the sentences under the table, every figure in them taken from the run
//! they describe. A sentence whose rows did not run is left out, never guessed.

use timing::{fmt_count, fmt_ns};

use crate::pair::{Pair, number};
use crate::plan::Plan;

/// The sentences about `pairs`, one Markdown list item each.
pub fn sentences(plans: &[Plan], pairs: &[Pair]) -> Vec<String> {
    [
        like_for_like(pairs),
        waiting(plans, pairs),
        gil(pairs),
        crate::machine::parallelism_sentence(pairs),
        lost_updates(pairs),
        heartbeat(pairs),
        broker(pairs),
        cross(pairs),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The pair of `lesson` whose Python (`python == true`) or Rust variant is `variant`.
fn find<'a>(pairs: &'a [Pair], lesson: &str, python: bool, variant: &str) -> Option<&'a Pair> {
    pairs.iter().find(|p| {
        p.lesson == lesson
            && variant
                == if python {
                    p.python_variant()
                } else {
                    p.rust_variant()
                }
    })
}

fn ratio(x: f64) -> String {
    format!("{x:.1}x")
}

/// The range of like-for-like speedups.
fn like_for_like(pairs: &[Pair]) -> Option<String> {
    let mut speedups: Vec<f64> = pairs
        .iter()
        .filter(|p| !p.cross_mechanism && p.speedup().is_finite())
        .map(Pair::speedup)
        .collect();
    speedups.sort_by(f64::total_cmp);
    let (first, last) = (speedups.first()?, speedups.last()?);
    Some(format!(
        "Like for like (the same mechanism and the same work on both sides), Rust's rate was \
         {} to {} Python's over {} pairs, median {}.",
        ratio(*first),
        ratio(*last),
        speedups.len(),
        ratio(speedups[speedups.len() / 2])
    ))
}

/// The pairs whose work is waiting, and how close the two sides came.
fn waiting(plans: &[Plan], pairs: &[Pair]) -> Option<String> {
    let waits: Vec<&Pair> = pairs
        .iter()
        .filter(|p| {
            plans
                .iter()
                .any(|plan| plan.lesson == p.lesson && plan.waits.contains(&p.rust_variant()))
        })
        .collect();
    let mut speedups: Vec<f64> = waits.iter().map(|p| p.speedup()).collect();
    speedups.sort_by(f64::total_cmp);
    let names: Vec<String> = waits
        .iter()
        .map(|p| format!("`{}`", p.rust_variant()))
        .collect();
    let (low, high) = (*speedups.first()?, *speedups.last()?);
    let why = if high <= 1.5 {
        "both take about as long as the waits, since threads and tasks exist there to overlap \
         waits and both languages overlap them"
    } else {
        "what differs there is each side's own work between the waits, not the waits"
    };
    Some(format!(
        "Where the work is waiting ({}: sleeps and HTTP delays), Rust's rate was {} to {} \
         Python's: {why}.",
        names.join(", "),
        ratio(low),
        ratio(high)
    ))
}

/// Python's threads against its own sequential run, beside Rust's.
fn gil(pairs: &[Pair]) -> Option<String> {
    let rate = |python: bool, variant: &str| {
        let pair = find(pairs, "cpu-processes", python, variant)?;
        Some(number(
            if python { &pair.python } else { &pair.rust },
            "per_s",
        ))
    };
    let py_seq = rate(true, "sequential")?;
    let rs_seq = rate(false, "sequential")?;
    let mut parts = Vec::new();
    for variant in ["threads", "fork", "spawn"] {
        if let (Some(py), Some(rs)) = (rate(true, variant), rate(false, variant)) {
            parts.push(format!(
                "{variant} {} against {}",
                ratio(py / py_seq),
                ratio(rs / rs_seq)
            ));
        }
    }
    let (py_threads, rs_threads) = (
        rate(true, "threads")? / py_seq,
        rate(false, "threads")? / rs_seq,
    );
    let why = if py_threads < 1.2 && rs_threads > 1.4 {
        "Python's threads share one interpreter lock and gained nothing; Rust's ran in parallel."
    } else {
        "This run shows no clear parallel gain from Rust's threads over its sequential run (a \
         busy machine, or two vCPUs sharing a core, takes it away): run it again before \
         reading anything into it."
    };
    Some(format!(
        "`cpu-processes`, each side's rate over its own sequential run, Python against Rust: {}. \
         {why}",
        parts.join(", ")
    ))
}

/// Updates lost by the racy variants on both sides.
fn lost_updates(pairs: &[Pair]) -> Option<String> {
    let lost = |row: &serde_json::Value| {
        let expected = number(row, "expected") as u64;
        let result = number(row, "result") as u64;
        format!(
            "lost {} of {}",
            fmt_count(expected.saturating_sub(result)),
            fmt_count(expected)
        )
    };
    let plus = find(pairs, "race-lock", true, "plus-equals")?;
    let call = find(pairs, "race-lock", true, "add-one-call");
    Some(format!(
        "`race-lock`: CPython's `counter += 1` {}{}; Rust's read-then-write (`racy`) {}. The \
         tutorial's unsynchronised `counter += 1` does not compile in Rust at all.",
        lost(&plus.python),
        call.map(|c| format!(", `counter = add_one(counter)` {}", lost(&c.python)))
            .unwrap_or_default(),
        lost(&plus.rust)
    ))
}

/// The heartbeat's p99 lateness of each async-mixed variant on both sides, and how far below
/// the inline one each offloaded one came on each side.
fn heartbeat(pairs: &[Pair]) -> Option<String> {
    let rows: Vec<&Pair> = pairs
        .iter()
        .filter(|p| p.lesson == "async-mixed" && p.rust["p99_ns"].is_number())
        .collect();
    let inline = rows.iter().find(|p| p.rust_variant() == "cpu-inline")?;
    let below = |row: &serde_json::Value, inline: &serde_json::Value| {
        let r = number(inline, "p99_ns") / number(row, "p99_ns").max(1.0);
        if r >= 1.0 {
            format!("{} lower than inline", ratio(r))
        } else {
            format!("{} higher than inline", ratio(1.0 / r))
        }
    };
    let each: Vec<String> = rows
        .iter()
        .filter(|p| p.rust_variant() != "cpu-inline")
        .map(|p| {
            format!(
                "`{}` {} ({}) against `{}` {} ({})",
                p.python_variant(),
                fmt_ns(number(&p.python, "p99_ns")),
                below(&p.python, &inline.python),
                p.rust_variant(),
                fmt_ns(number(&p.rust, "p99_ns")),
                below(&p.rust, &inline.rust)
            )
        })
        .collect();
    Some(format!(
        "`async-mixed`'s p99 column is a 1 ms heartbeat's lateness. With the CPU work on the \
         event loop it was {} in Python and {} in Rust; moved off the loop: {}.",
        fmt_ns(number(&inline.python, "p99_ns")),
        fmt_ns(number(&inline.rust, "p99_ns")),
        each.join("; ")
    ))
}

/// Celery against apalis on the same Redis.
fn broker(pairs: &[Pair]) -> Option<String> {
    let pair = pairs.iter().find(|p| p.lesson == "task-queue")?;
    Some(format!(
        "`task-queue`: Celery's prefork workers and apalis workers on the same Redis, {} jobs \
         each: apalis did {} Celery's jobs per second.",
        fmt_count(number(&pair.rust, "items") as u64),
        ratio(pair.speedup())
    ))
}

/// The pairs across mechanisms, named apart.
fn cross(pairs: &[Pair]) -> Option<String> {
    let names: Vec<String> = pairs
        .iter()
        .filter(|p| p.cross_mechanism)
        .map(|p| {
            format!(
                "`{}` ({}) beside `{}` ({}) {}",
                p.python_variant(),
                p.python["mechanism"].as_str().unwrap_or("?"),
                p.rust_variant(),
                p.rust["mechanism"].as_str().unwrap_or("?"),
                ratio(p.speedup())
            )
        })
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            "Across mechanisms, on purpose: {}. These compare the tutorial's program with the \
             way Rust does the job, not one mechanism in two languages.",
            names.join("; ")
        )
    })
}
