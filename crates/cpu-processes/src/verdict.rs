//! What the numbers say: one line per conclusion, each computed from the typed summaries.

use timing::fmt_count;

use crate::measure::memory::fmt_kib;
use crate::measure::{Measured, Summary, Variant};

/// What a CPU-bound task with nothing shared should reach on idle cores: 90 % efficiency.
const SCALES: f64 = 0.9;

/// The lesson's conclusions: the speedups and why any fell short, memory, failed children.
pub fn verdicts(measured: &[Measured], workers: usize) -> Vec<String> {
    let summaries: Vec<&Summary> = measured.iter().map(|m| &m.summary).collect();
    let mut lines = Vec::new();
    lines.extend(speedup_verdict(&summaries, workers));
    lines.extend(memory_verdict(&summaries, workers));
    let failed: usize = summaries
        .iter()
        .filter_map(|s| s.failures.as_ref())
        .map(Vec::len)
        .sum();
    if failed > 0 {
        lines.push(format!(
            "{} child process(es) failed: see the rows",
            fmt_count(failed as u64)
        ));
    }
    lines
}

/// Each parallel variant's speedup, and whether they all scale.
fn speedup_verdict(summaries: &[&Summary], workers: usize) -> Option<String> {
    let parallel: Vec<(&Summary, f64)> = summaries
        .iter()
        .filter(|s| s.variant != Variant::Sequential)
        .filter_map(|s| Some((*s, s.speedup?)))
        .collect();
    if parallel.is_empty() {
        return (workers > 1)
            .then(|| "run with --variant sequential as well to see speedups".into());
    }
    let listed: Vec<String> = parallel
        .iter()
        .map(|(s, speedup)| format!("{} {speedup:.2}x", s.variant.name()))
        .collect();
    let short: Vec<&Summary> = parallel
        .iter()
        .filter(|(_, speedup)| *speedup < SCALES * workers as f64)
        .map(|(s, _)| *s)
        .collect();
    let judgement = if workers == 1 {
        "one worker: these ratios show only what each way adds to one task".to_string()
    } else if short.is_empty() {
        "every one scales: no GIL, so threads are as parallel as processes".to_string()
    } else {
        format!(
            "below 90% efficiency: {}",
            why_short(summaries, &short, workers)
        )
    };
    Some(format!(
        "speedup over sequential with {workers} worker(s): {}; {judgement}",
        listed.join(", ")
    ))
}

/// Why each of the `short` variants fell below 90 % efficiency, from how many CPUs its median
/// run kept busy (CPU seconds over wall seconds). Fewer than workers means a worker sat without
/// a CPU: waiting for one that another process held, or done early while a slower one ran on
/// (the two vCPUs of a virtual machine can run the same loop at different speeds from one
/// second to the next). All of them busy means each task ran slower beside the others than
/// alone, as when two vCPUs share one physical core. (Linux shares CPUs between sessions
/// first, "autogroup": a build started from another terminal takes half of two cores even under
/// `nice`.) One fixed guess naming every cause would leave the reader to find out which applied.
fn why_short(summaries: &[&Summary], short: &[&Summary], workers: usize) -> String {
    let idle = |cpus: f64| cpus < SCALES * workers as f64;
    let mut reasons: Vec<String> = short
        .iter()
        .map(|s| {
            let (variant, had) = (s.variant.name(), s.median.cpus);
            format!("{variant} kept {had:.2} of {workers} CPUs busy")
        })
        .collect();
    if short.iter().any(|s| idle(s.median.cpus)) {
        reasons.push(
            "fewer than workers: a worker waited for a CPU, or finished early beside a slower \
             one"
            .into(),
        );
    }
    if short.iter().any(|s| !idle(s.median.cpus)) {
        reasons.push("all of them: each task ran slower beside the others than alone".into());
    }
    let sequential = summaries.iter().find(|s| s.variant == Variant::Sequential);
    if let Some(had) = sequential
        .map(|s| s.median.cpus)
        .filter(|&had| had < SCALES)
    {
        reasons.push(format!("sequential itself kept only {had:.2} CPU busy"));
    }
    reasons.join("; ")
}

/// What threads and processes cost in memory: the parent's growth with threads, each child's
/// own peak.
fn memory_verdict(summaries: &[&Summary], workers: usize) -> Option<String> {
    let find = |variant| summaries.iter().find(|s| s.variant == variant);
    let parent = |variant| find(variant)?.parent_peak_kib;
    let mut parts = Vec::new();
    if let (Some(seq), Some(thr)) = (parent(Variant::Sequential), parent(Variant::Threads)) {
        let grew = fmt_kib(thr.saturating_sub(seq));
        parts.push(format!(
            "{workers} threads grew the one shared process by {grew}"
        ));
    }
    for variant in [Variant::Fork, Variant::Spawn] {
        if let Some(child) = find(variant).and_then(|s| s.child_peak_kib) {
            parts.push(format!(
                "{}: {workers} processes of up to {} each",
                variant.name(),
                fmt_kib(child)
            ));
        }
    }
    (!parts.is_empty()).then(|| {
        format!(
            "memory: {} (each child's own peak; a forked child's counts the pages it still \
             shares with the parent)",
            parts.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::measure::{Run, Sizes, measured};
    use crate::steps::Children;

    const SIZES: Sizes = Sizes {
        n: 4,
        workers: 2,
        rounds: 1,
    };

    fn summary(variant: Variant, ms: u64, cpus: f64, peak: u64) -> Summary {
        let children = (variant == Variant::Fork).then(|| Children {
            total: 12,
            results: 2,
            peaks_kib: vec![700, 800],
            failures: Vec::new(),
        });
        let run = Run {
            wall: Duration::from_millis(ms),
            cpus,
            parent_peak_kib: Some(peak),
            total: 12,
            children,
        };
        Summary::of(variant, SIZES, vec![run]).expect("one run")
    }

    #[test]
    fn scaling_runs_say_so_and_memory_is_read_from_the_peaks() {
        let lines = verdicts(
            &measured(vec![
                summary(Variant::Sequential, 200, 1.0, 2000),
                summary(Variant::Threads, 100, 2.0, 2128),
                summary(Variant::Fork, 105, 2.0, 2000),
            ]),
            2,
        )
        .join("\n");
        assert!(lines.contains("threads 2.00x, fork 1.90x"), "{lines}");
        assert!(lines.contains("every one scales"), "{lines}");
        assert!(
            lines.contains("2 threads grew the one shared process by 128 KiB"),
            "{lines}"
        );
        assert!(
            lines.contains("fork: 2 processes of up to 800 KiB each"),
            "{lines}"
        );
    }

    #[test]
    fn a_short_run_is_explained_by_the_cpus_it_had() {
        let lines = verdicts(
            &measured(vec![
                summary(Variant::Sequential, 200, 1.0, 2000),
                summary(Variant::Threads, 190, 1.05, 2000),
            ]),
            2,
        )
        .join("\n");
        assert!(
            lines.contains("threads kept 1.05 of 2 CPUs busy"),
            "{lines}"
        );
        assert!(lines.contains("a worker waited for a CPU"), "{lines}");
        assert!(!lines.contains("every one scales"), "{lines}");
    }
}
