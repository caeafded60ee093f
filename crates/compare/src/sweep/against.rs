//! How near each series came to the machine's own limit (ideal speedup, memcpy, one delay), at
//! the largest point: the sentence that says whether a curve flattened against the machine or
//! against its own overhead.

use super::Cap;
use super::record::Point;
use super::words::{figure, series_names};

/// One sentence naming the limit at the largest point it shares with the series of its figure,
/// and each series' figure there as a share (below the limit) or a multiple (above) of it; `None`
/// when the lesson has no limit.
pub fn sentence(points: &[Point]) -> Option<String> {
    let limit = points.iter().find(|p| p.language == "machine")?;
    let x = points
        .iter()
        .filter(|p| p.series == limit.series)
        .map(|p| p.x)
        .max()?;
    let at = points
        .iter()
        .find(|p| p.series == limit.series && p.x == x)?;
    let mut parts = Vec::new();
    for name in series_names(points) {
        let Some(p) = points.iter().find(|p| {
            p.series == name && p.x == x && p.y_name == at.y_name && p.language != "machine"
        }) else {
            continue;
        };
        let ratio = p.y.median / at.y.median;
        let share = if ratio < 1.0 {
            format!("{:.0}% of it", ratio * 100.0)
        } else if ratio < 10.0 {
            format!("{ratio:.1}x it")
        } else {
            format!("{ratio:.0}x it")
        };
        parts.push(format!("{name} {} ({share})", figure(p.y.median)));
    }
    (!parts.is_empty()).then(|| {
        format!(
            "Against the limit, {} = {}, at {} = {x}: {}.",
            at.series,
            figure(at.y.median),
            at.x_name,
            parts.join(", ")
        )
    })
}

/// One sentence on the CPUs the probe found free before the points ([`Point::parallelism`]), and
/// the points that had under three quarters of the cores: on a shared machine those points'
/// figures were capped by the moment, not by the language; `None` without points.
pub fn cpus_sentence(points: &[Point], cores: usize) -> Option<String> {
    let first = points.first()?;
    let mut seen: Vec<(u64, f64)> = Vec::new();
    for p in points {
        if !seen.iter().any(|s| s.0 == p.x) {
            seen.push((p.x, p.parallelism));
        }
    }
    let low = seen.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
    let high = seen.iter().map(|s| s.1).fold(0.0, f64::max);
    let floor = 0.75 * cores as f64;
    let short: Vec<String> = seen
        .iter()
        .filter(|s| s.1 < floor)
        .map(|s| s.0.to_string())
        .collect();
    let range = if (high - low).abs() < 0.05 {
        format!("{high:.1}")
    } else {
        format!("{low:.1} to {high:.1}")
    };
    let tail = if short.is_empty() {
        format!("; every point had at least {floor:.1}")
    } else {
        format!(
            "; under {floor:.1} at {} = {}, where the machine's load, not the language, may have \
             held the figures down",
            first.x_name,
            short.join(", ")
        )
    };
    Some(format!(
        "A probe just before each point found {range} of the {cores} cores free{tail}."
    ))
}

/// A broker's thread is the limit once it is busy this share of a run.
const BUSY: f64 = 80.0;

/// One sentence a series of the broker's busy share ([`super::Y::BrokerBusyPct`]): how busy at
/// the ends, and from which x on it was the limit; `None` for a chart without a broker.
pub fn broker_sentence(points: &[Point]) -> Vec<String> {
    let busy: Vec<&Point> = points
        .iter()
        .filter(|p| p.y_name == "broker_busy_pct")
        .collect();
    let mut out = Vec::new();
    for name in series_names(points) {
        let curve: Vec<&&Point> = busy.iter().filter(|p| p.series == name).collect();
        let (Some(first), Some(last)) = (curve.first(), curve.last()) else {
            continue;
        };
        let x_name = first.x_name;
        let verdict = match curve.iter().find(|p| p.y.median >= BUSY) {
            Some(p) => format!(
                "from {x_name} = {} on it was at least {BUSY:.0}% busy: there the broker, not \
                 the workers, is the limit",
                p.x
            ),
            None => {
                format!(
                    "it never reached {BUSY:.0}%: the broker was not yet the limit; the workers, \
                     and the cores they share with it, were"
                )
            }
        };
        out.push(format!(
            "{name}: Redis's one thread was busy {:.0}% of the run at {x_name} = {} and {:.0}% \
             at {}; {verdict}.",
            first.y.median, first.x, last.y.median, last.x
        ));
    }
    out
}

/// One sentence a reason for the series of a chart that stop short of its largest point: how
/// far they went and why (`why` gives each series' [`Cap`]), and what each one's memory would be
/// at the largest point at the rate it grew.
pub fn short_sentences(points: &[Point], why: impl Fn(&str) -> Option<Cap>) -> Vec<String> {
    let Some(top) = points.iter().map(|p| p.x).max() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for cap in [Cap::Machine, Cap::Time] {
        let short: Vec<(String, u64)> = series_names(points)
            .into_iter()
            .filter(|name| why(name) == Some(cap))
            .filter_map(|name| {
                let last = points
                    .iter()
                    .filter(|p| p.series == name)
                    .map(|p| p.x)
                    .max()?;
                (last < top).then_some((name, last))
            })
            .collect();
        out.extend(short_sentence(points, &short, top, cap));
    }
    out
}

/// The sentence for `short` (series, and the largest x each reached), stopped by `cap`.
fn short_sentence(points: &[Point], short: &[(String, u64)], top: u64, cap: Cap) -> Option<String> {
    let (_, reach) = short.first()?;
    let x_name = points[0].x_name;
    let names: Vec<&str> = short.iter().map(|(n, _)| n.as_str()).collect();
    let reason = match cap {
        Cap::Time => "past it one run would take longer than the sweep's ten minutes hold".into(),
        _ => thread_limits(),
    };
    let mut text = format!(
        "{} ran up to {x_name} = {reach}, not {top}: {reason}",
        names.join(", ")
    );
    for (name, last) in short {
        let memory: Vec<(u64, f64)> = points
            .iter()
            .filter(|p| &p.series == name && p.y_name == "peak_rss_mib")
            .map(|p| (p.x, p.y.median))
            .collect();
        if let (Some(a), Some(b)) = (memory.first(), memory.last())
            && b.0 > a.0
        {
            let per = (b.1 - a.1) / (b.0 - a.0) as f64;
            text.push_str(&format!(
                "; at the {} KiB each one added took in {name} (from {x_name} = {} to {last}), \
                 {top} would hold {} MiB",
                figure(per * 1024.0),
                a.0,
                figure(a.1 + per * (top - a.0) as f64)
            ));
        }
    }
    text.push('.');
    Some(text)
}

/// What this machine allows threads, from `/proc/sys`: every thread takes a process ID
/// (`kernel.pid_max`), counts against `kernel.threads-max`, and maps its stack and guard page
/// (a Rust thread also a signal stack and its guard: four mappings) against `vm.max_map_count`.
fn thread_limits() -> String {
    let read = |name: &str| {
        std::fs::read_to_string(format!("/proc/sys/{name}"))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
    };
    let (Some(pids), Some(threads), Some(maps)) = (
        read("kernel/pid_max"),
        read("kernel/threads-max"),
        read("vm/max_map_count"),
    ) else {
        return "this machine's limits on threads stop it there".into();
    };
    format!(
        "this machine's kernel gives at most {pids} process IDs (pid_max), one a thread, \
         {threads} threads (threads-max) and {maps} memory maps (max_map_count), four a Rust \
         thread, so about {} Rust threads at once",
        pids.min(threads).min(maps / 4)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::record::tests::point;

    #[test]
    fn each_series_is_put_against_the_limit_at_the_largest_point() {
        let mut points = vec![
            point("Rust fork", "speedup", 1, &[1.0]),
            point("Rust fork", "speedup", 8, &[1.8]),
            point("Python threads", "speedup", 8, &[0.9]),
            point("Rust racy", "lost", 8, &[100.0]),
        ];
        for x in [1, 8] {
            let mut limit = point("ideal", "speedup", x, &[x.min(2) as f64]);
            limit.language = "machine";
            points.push(limit);
        }
        let text = sentence(&points).unwrap();
        assert_eq!(
            text,
            "Against the limit, ideal = 2.00, at workers = 8: Rust fork 1.80 (90% of it), \
             Python threads 0.900 (45% of it)."
        );
        let wall = [point("Rust io-gather", "wall_s", 4, &[0.1])];
        assert_eq!(sentence(&wall), None);
    }

    #[test]
    fn the_broker_is_named_the_limit_once_its_thread_is_busy() {
        let busy = |x, y| point("Rust redis", "broker_busy_pct", x, &[y]);
        let points = [busy(1, 30.0), busy(2, 85.0), busy(4, 97.0)];
        let text = &broker_sentence(&points)[0];
        assert!(
            text.contains("busy 30% of the run at workers = 1 and 97% at 4"),
            "{text}"
        );
        assert!(
            text.contains("from workers = 2 on it was at least 80% busy"),
            "{text}"
        );
        let idle = [busy(1, 10.0), busy(4, 40.0)];
        assert!(broker_sentence(&idle)[0].contains("never reached 80%"));
        assert!(broker_sentence(&[point("Rust mutex", "per_s", 1, &[1.0])]).is_empty());
    }

    #[test]
    fn a_series_that_stops_short_is_named_with_its_memory_carried_on() {
        let mut points = vec![];
        for x in [10, 100, 1000] {
            points.push(point(
                "Rust tasks",
                "peak_rss_mib",
                x,
                &[1.0 + x as f64 / 1000.0],
            ));
        }
        for x in [10, 100] {
            points.push(point(
                "Rust threads",
                "peak_rss_mib",
                x,
                &[1.0 + x as f64 / 10.0],
            ));
        }
        let why = |name: &str| {
            Some(match name {
                "Rust threads" => Cap::Machine,
                _ => Cap::None,
            })
        };
        let texts = short_sentences(&points, why);
        assert_eq!(texts.len(), 1, "{texts:?}");
        let text = &texts[0];
        assert!(
            text.starts_with("Rust threads ran up to workers = 100, not 1000"),
            "{text}"
        );
        // 0.1 MiB a worker from 10 to 100: 1 000 would hold 2 + 0.1 × 990 = 101 MiB.
        assert!(
            text.contains("at the 102 KiB each one added took"),
            "{text}"
        );
        assert!(text.contains("1000 would hold 101 MiB"), "{text}");
        assert!(short_sentences(&points[..3], why).is_empty());
        let slow = short_sentences(&points, |_| Some(Cap::Time));
        assert!(slow[0].contains("ten minutes"), "{slow:?}");
    }

    #[test]
    fn points_with_too_few_cpus_free_are_named() {
        let mut points = vec![
            point("Rust fork", "speedup", 1, &[1.0]),
            point("Rust fork", "speedup", 2, &[1.2]),
            point("Python fork", "speedup", 2, &[1.1]),
        ];
        points[1].parallelism = 1.1;
        points[2].parallelism = 1.1;
        let text = cpus_sentence(&points, 2).unwrap();
        assert!(
            text.contains("found 1.1 to 2.0 of the 2 cores free"),
            "{text}"
        );
        assert!(text.contains("under 1.5 at workers = 2,"), "{text}");
        let text = cpus_sentence(&points[..1], 2).unwrap();
        assert!(text.contains("every point had at least 1.5"), "{text}");
    }
}
