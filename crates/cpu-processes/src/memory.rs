//! Peak resident memory from `getrusage`: what threads and processes cost in memory, measured.
//!
//! `getrusage(RUSAGE_SELF).ru_maxrss` is this process's peak resident set, a high-water mark
//! since it started: it never goes down, so a row's figure is the peak of the run *so far*.
//! `getrusage(RUSAGE_CHILDREN).ru_maxrss` covers children that have been waited for, and on
//! Linux it is the peak of the largest *single* child (and of that child's own reaped
//! children), not the sum over all of them: with `workers` children running at once, the run
//! held up to `workers` times that on top of the parent. It too never goes down, so a later
//! variant's figure can be an earlier variant's child. `/proc/<pid>/status` (`VmHWM`) would give
//! each child's own peak, but only while the child is alive; `getrusage` is what Python's
//! `resource` module reads too, so the twin reports the same figures. Both are in KiB on Linux.
//!
//! The same call also gives CPU time (user + system), which says whether a slow parallel run
//! had its CPUs: see [`cpu_seconds`].

use nix::sys::resource::{UsageWho, getrusage};

/// This process's peak resident memory so far, in KiB (0 if `getrusage` fails, which it
/// cannot for `RUSAGE_SELF`: the only errors are a bad pointer or a bad `who`).
pub fn self_peak_kib() -> u64 {
    peak_kib(UsageWho::RUSAGE_SELF)
}

/// The peak resident memory of the largest single child reaped so far, in KiB (0 when none).
pub fn children_peak_kib() -> u64 {
    peak_kib(UsageWho::RUSAGE_CHILDREN)
}

fn peak_kib(who: UsageWho) -> u64 {
    getrusage(who).map_or(0, |usage| u64::try_from(usage.max_rss()).unwrap_or(0))
}

/// CPU seconds (user + system) used so far by this process, all its threads, and every child
/// it has reaped. The difference across a variant, divided by its wall time, is how many CPUs
/// the variant actually had on average: near `workers` when the parallel work really ran in
/// parallel, lower when other processes held a CPU. (A VM's stolen time is not counted.)
pub fn cpu_seconds() -> f64 {
    [UsageWho::RUSAGE_SELF, UsageWho::RUSAGE_CHILDREN]
        .into_iter()
        .filter_map(|who| getrusage(who).ok())
        .flat_map(|usage| [usage.user_time(), usage.system_time()])
        .map(|t| t.tv_sec() as f64 + t.tv_usec() as f64 * 1e-6)
        .sum()
}

/// KiB for people: `812 KiB`, `2.1 MiB`.
pub fn fmt_kib(kib: u64) -> String {
    if kib < 1024 {
        format!("{kib} KiB")
    } else {
        format!("{:.1} MiB", kib as f64 / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_resident_peak() {
        // A running test binary holds at least its code and a stack: more than 100 KiB.
        assert!(self_peak_kib() > 100);
    }

    #[test]
    fn busy_work_shows_as_cpu_time() {
        let before = cpu_seconds();
        let start = std::time::Instant::now();
        // Spin until the clock says 50 ms passed: all of it on this thread's CPU.
        while start.elapsed().as_millis() < 50 {
            std::hint::black_box(0);
        }
        assert!(cpu_seconds() > before, "no CPU time counted");
    }

    #[test]
    fn kib_are_printed_in_their_unit() {
        assert_eq!(fmt_kib(812), "812 KiB");
        assert_eq!(fmt_kib(2150), "2.1 MiB");
    }
}
