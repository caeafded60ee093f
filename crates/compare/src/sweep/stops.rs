//! Why a curve stops where it does, in words: a broker whose one thread is busy, a series the
//! machine gives no more threads to, or one the sweep's time cannot hold further.

use super::Cap;
use super::record::Point;
use super::words::{figure, series_names};

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
        Cap::Time => "past it CPython starts and ends threads so slowly that three runs a point \
                      would not fit the sweep's ten minutes"
            .into(),
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
    let each = [
        (
            pids,
            format!("one of the kernel's {pids} process IDs (pid_max)"),
        ),
        (
            threads,
            format!("one of its {threads} threads (threads-max)"),
        ),
        (
            maps / 4,
            format!("four of its {maps} memory maps (max_map_count)"),
        ),
    ];
    let (most, first) = each
        .iter()
        .min_by_key(|(n, _)| *n)
        .map(|(n, why)| (*n, why.clone()))
        .unwrap_or_default();
    format!("this machine gives about {most} Rust threads at most, since each takes {first}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::record::tests::point;

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
}
