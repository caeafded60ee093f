//! Why a curve stops where it does, in words: a broker whose one thread is busy, a series the
//! machine gives no more threads to, or one the sweep's time cannot hold further.

use super::Cap;
use super::record::Point;
use super::words::{figure, kib_each, series_names};

/// A broker's thread is the limit once it is busy this share of a run.
const BUSY: f64 = 80.0;

/// One sentence a series of the broker's busy share ([`super::Y::BrokerBusyPct`]): how busy at
/// the ends, and from which x on it stayed busy enough to be the limit; none for a chart without
/// a broker.
pub fn broker_sentence(points: &[Point]) -> Vec<String> {
    let mut out = Vec::new();
    for name in series_names(points) {
        let curve: Vec<&Point> = points
            .iter()
            .filter(|p| p.series == name && p.y_name == "broker_busy_pct")
            .collect();
        let (Some(first), Some(last)) = (curve.first(), curve.last()) else {
            continue;
        };
        let x_name = first.x_name;
        // From the point after the last one below the line: busy there and at every point after.
        let from = match curve.iter().rposition(|p| p.y.median < BUSY) {
            None => Some(first.x),
            Some(k) => curve.get(k + 1).map(|p| p.x),
        };
        let verdict = match from {
            Some(x) => format!(
                "from {x_name} = {x} on it stayed at least {BUSY:.0}% busy: there the broker, not \
                 the workers, is the limit"
            ),
            None => format!(
                "it did not stay at {BUSY:.0}% or more: the broker was not yet the limit; the \
                 workers, and the cores they share with it, were"
            ),
        };
        out.push(format!(
            "{name} was {:.0}% of the run at {x_name} = {} and {:.0}% at {}; {verdict}.",
            first.y.median, first.x, last.y.median, last.x
        ));
    }
    out
}

/// One sentence for each group of series of a chart that stop short of its largest point at the
/// same x for the same reason (`why` gives each series' [`Cap`]): how far they went, why (for the
/// machine's limits, `threads` says them as the run recorded them), and what each one's memory
/// would be at the largest point at the rate it grew.
pub fn short_sentences(
    points: &[Point],
    threads: &str,
    why: impl Fn(&str) -> Option<Cap>,
) -> Vec<String> {
    let Some(top) = points.iter().map(|p| p.x).max() else {
        return Vec::new();
    };
    let mut groups: Vec<(Cap, u64, Vec<String>)> = Vec::new();
    for name in series_names(points) {
        let Some(cap) = why(&name).filter(|c| *c != Cap::None) else {
            continue;
        };
        let Some(reach) = points
            .iter()
            .filter(|p| p.series == name)
            .map(|p| p.x)
            .max()
            .filter(|&x| x < top)
        else {
            continue;
        };
        match groups.iter_mut().find(|g| g.0 == cap && g.1 == reach) {
            Some(g) => g.2.push(name),
            None => groups.push((cap, reach, vec![name])),
        }
    }
    groups
        .into_iter()
        .map(|(cap, reach, names)| short_sentence(points, &names, reach, top, cap, threads))
        .collect()
}

/// The sentence for the series `names`, which reached `reach` of `top`, stopped by `cap`.
fn short_sentence(
    points: &[Point],
    names: &[String],
    reach: u64,
    top: u64,
    cap: Cap,
    threads: &str,
) -> String {
    let x_name = points[0].x_name;
    let reason = match cap {
        Cap::Time => "past it CPython starts and ends threads so slowly that its runs would not \
                      fit the sweep's ten minutes"
            .to_string(),
        _ => threads.to_string(),
    };
    let next = points
        .iter()
        .map(|p| p.x)
        .filter(|&x| x > reach)
        .min()
        .unwrap_or(top);
    let mut text = format!(
        "{} ran up to {x_name} = {reach}, not to {next}: {reason}",
        and_list(names)
    );
    for name in names {
        let memory: Vec<(u64, f64)> = points
            .iter()
            .filter(|p| &p.series == name && p.y_name == "peak_rss_mib")
            .map(|p| (p.x, p.y.median))
            .collect();
        if let (Some(kib), Some(a)) = (kib_each(&memory), memory.first()) {
            let at_top = a.1 + kib / 1024.0 * (top - a.0) as f64;
            text.push_str(&format!(
                "; at the {} KiB each one added took in {name}, {top} would hold {} MiB",
                figure(kib),
                figure(at_top)
            ));
        }
    }
    text.push('.');
    text
}

/// "a", "a and b", "a, b and c".
fn and_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What this machine allows threads, from `/proc/sys`: every thread takes a process ID
/// (`kernel.pid_max`), counts against `kernel.threads-max`, and maps its stack and guard page
/// (a Rust thread also a signal stack and its guard: four mappings) against `vm.max_map_count`.
/// Read when a run starts and kept with its record, so a chart drawn again elsewhere still says
/// the limits of the machine it was measured on.
pub fn thread_limits() -> String {
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
    format!("the machine gives about {most} Rust threads at most, since each takes {first}")
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
            text.starts_with("Rust redis was 30% of the run at workers = 1 and 97% at 4"),
            "{text}"
        );
        assert!(
            text.contains("from workers = 2 on it stayed at least 80% busy"),
            "{text}"
        );
        // A dip below the line after a busy point moves where "from" starts.
        let dip = [busy(1, 85.0), busy(2, 70.0), busy(4, 90.0), busy(8, 95.0)];
        assert!(broker_sentence(&dip)[0].contains("from workers = 4 on"));
        let ends_low = [busy(1, 10.0), busy(2, 90.0), busy(4, 40.0)];
        assert!(broker_sentence(&ends_low)[0].contains("did not stay at 80%"));
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
        let texts = short_sentences(&points, "the test's limits", why);
        assert_eq!(texts.len(), 1, "{texts:?}");
        let text = &texts[0];
        assert!(
            text.starts_with(
                "Rust threads ran up to workers = 100, not to 1000: the test's limits;"
            ),
            "{text}"
        );
        // 0.1 MiB a worker from 10 to 100: 1 000 would hold 2 + 0.1 × 990 = 101 MiB.
        assert!(
            text.contains("at the 102 KiB each one added took"),
            "{text}"
        );
        assert!(text.contains("1000 would hold 101 MiB"), "{text}");
        assert!(short_sentences(&points[..3], "", why).is_empty());
        let slow = short_sentences(&points, "", |_| Some(Cap::Time));
        assert!(slow[0].contains("ten minutes"), "{slow:?}");
    }
}
