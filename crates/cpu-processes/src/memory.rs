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
    fn kib_are_printed_in_their_unit() {
        assert_eq!(fmt_kib(812), "812 KiB");
        assert_eq!(fmt_kib(2150), "2.1 MiB");
    }
}
