//! Memory and CPU time, measured right however the program was started.
//!
//! Peak memory is `VmHWM`, the high-water mark of this process image's resident set
//! ([`peak_rss_kib`](crate::steps::peak_rss_kib)), not `getrusage`'s `ru_maxrss`: the kernel
//! carries `ru_maxrss` across `exec`, so a lesson started by `cargo run` (or any large parent
//! that exec'd it) would report the parent's peak as its own, and `RUSAGE_CHILDREN` the
//! largest child that parent ever reaped (a `rustc`). Before each run of a variant, [`reset_peak`]
//! sets the mark back to the current resident set, so each row's figure is what its own run
//! reached, not the largest of every run before it. Each child reports its own mark before it
//! exits.
//!
//! CPU time (user + system) does come from `getrusage`: its difference across a run is what
//! matters, and whatever was inherited cancels out. See [`cpu_seconds`].

use nix::sys::resource::{UsageWho, getrusage};

/// Sets this process's peak resident memory back to its current resident set, by writing `5`
/// to `/proc/self/clear_refs` (Linux 4.0 and later). Returns whether it could: where `/proc` is
/// read-only, the peak stays the peak of this process image so far.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// CPU seconds (user + system) used so far by this process, all its threads, and every child
/// it has reaped. The difference across a run, divided by its wall time, is how many CPUs the
/// run actually had on average: near `workers` when the parallel work really ran in parallel,
/// lower when other processes held a CPU. (A VM's stolen time is not counted.)
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
    use crate::steps::peak_rss_kib;

    #[test]
    fn the_peak_can_be_set_back() {
        let grown = vec![1_u8; 64 << 20];
        std::hint::black_box(&grown);
        let high = peak_rss_kib().expect("VmHWM");
        drop(grown);
        assert!(reset_peak(), "/proc/self/clear_refs cannot be written");
        let low = peak_rss_kib().expect("VmHWM");
        assert!(
            low + 32 * 1024 < high,
            "{low} KiB after reset, {high} before"
        );
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
