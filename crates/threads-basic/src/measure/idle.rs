//! Step 9's row: the memory this process holds with `n` idle threads alive, and the machine's
//! limits on threads, read before any is started.
//!
//! Memory comes from `/proc/self/status`: `VmRSS` (resident now) and `VmSize` (address space
//! now) before the spawns and again while every thread is alive, and `VmHWM` (the resident peak)
//! after the joins. The figure per thread is taken from `VmRSS` while they are alive, not from
//! the peak: `VmHWM` is the process's high-water mark since it started, so in a run of every
//! variant it can be an earlier step's (step 4's `Vec` of numbers), not this one's.

use timing::{Mechanism, Stopwatch, fmt_count};

use super::{Measured, Outcome, row};
use crate::steps::Error;
use crate::steps::s9_idle_threads::{self, STACK_SIZE};

/// The process's memory at one moment, in KiB, as `/proc/self/status` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Memory {
    /// `VmRSS`: pages resident in RAM.
    pub rss_kib: u64,
    /// `VmSize`: address space mapped, resident or not.
    pub size_kib: u64,
}

/// What step 9 held, and the memory around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleThreads {
    /// Threads asked for.
    pub threads: u64,
    /// Threads alive and blocked at the same moment.
    pub alive_at_once: u64,
    /// Before the first spawn.
    pub base: Memory,
    /// While every thread was alive.
    pub alive: Memory,
    /// `VmHWM` after the joins: the process's resident peak so far.
    pub peak_rss_kib: u64,
}

impl IdleThreads {
    /// Resident KiB each thread added, rounded down.
    pub fn rss_kib_each(&self) -> u64 {
        self.alive.rss_kib.saturating_sub(self.base.rss_kib) / self.threads.max(1)
    }

    /// Address space KiB each thread reserved, rounded down.
    pub fn size_kib_each(&self) -> u64 {
        self.alive.size_kib.saturating_sub(self.base.size_kib) / self.threads.max(1)
    }
}

/// Field `name` (`"VmRSS:"`) of a `/proc/*/status` text, in kB.
fn field_kib(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(name))?;
    line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// This process's [`Memory`] now, and its `VmHWM`; `None` where `/proc` is not there to read.
fn memory_now() -> Option<(Memory, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let memory = Memory {
        rss_kib: field_kib(&status, "VmRSS:")?,
        size_kib: field_kib(&status, "VmSize:")?,
    };
    Some((memory, field_kib(&status, "VmHWM:")?))
}

/// Step 9, timed from the first spawn to the last join, with the memory read before and while
/// the threads are alive. Correct means every thread was alive at once and the memory could be
/// read; a spawn the machine refused is an error (exit status 1).
pub fn idle_threads(threads: u64) -> Result<Measured, Error> {
    let before = memory_now();
    // `threads` fits a usize: the command line caps it far below 2^32.
    let n = threads as usize;
    let (held, wall) = Stopwatch::time(|| s9_idle_threads::hold_idle(n, STACK_SIZE, memory_now));
    let held = held?;
    let after = memory_now();
    let memory = match (before, held.seen, after) {
        (Some((base, _)), Some((alive, _)), Some((_, peak))) => Some((base, alive, peak)),
        _ => None,
    };
    let (base, alive, peak_rss_kib) = memory.unwrap_or_default();
    let idle = IdleThreads {
        threads,
        alive_at_once: held.alive_at_once as u64,
        base,
        alive,
        peak_rss_kib,
    };
    let note = match memory {
        Some(_) => format!(
            "{} idle threads: {} KiB each resident, {} KiB each reserved",
            fmt_count(threads),
            fmt_count(idle.rss_kib_each()),
            fmt_count(idle.size_kib_each())
        ),
        None => "no /proc/self/status to read the memory from".into(),
    };
    Ok(Measured {
        row: row("idle-threads", Mechanism::Threads, n)
            .items(threads)
            .check(threads, idle.alive_at_once)
            .require(memory.is_some())
            .wall(wall)
            .note(note)
            .extra("stack_kib", (STACK_SIZE / 1024) as u64)
            .extra("base_rss_kib", base.rss_kib)
            .extra("alive_rss_kib", alive.rss_kib)
            .extra("peak_rss_kib", peak_rss_kib)
            .extra("base_size_kib", base.size_kib)
            .extra("alive_size_kib", alive.size_kib)
            .extra("rss_kib_per_thread", idle.rss_kib_each())
            .extra("size_kib_per_thread", idle.size_kib_each()),
        outcome: Outcome::Idle(idle),
    })
}

/// Memory mappings each thread adds, counted against `vm.max_map_count`: the C library maps its
/// stack with a guard page below it (two), and Rust's std gives every thread a small signal
/// stack, with a guard page of its own, to report a stack overflow on (two more). Past the count
/// that signal stack cannot be mapped, and std aborts the whole process from inside the new
/// thread, where no `Err` from `spawn` can report it: so this limit must be checked before.
const MAPPINGS_PER_THREAD: u64 = 4;

/// Mappings kept spare beside the threads' own: the allocator's arenas (up to eight per core,
/// a couple of mappings each) and the buffers the run itself maps, such as the handles' `Vec`.
const SPARE_MAPPINGS: u64 = 256;

/// The limits on the threads this machine lets this process start, read before any is started:
/// each as a person would look it up, and the threads it allows.
fn thread_limits() -> Vec<(String, u64)> {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .ok()?
            .trim()
            .parse::<u64>()
            .ok()
    };
    // `ulimit -u`: the soft "Max processes" of /proc/self/limits ("unlimited" is no limit).
    let nproc = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            let line = limits.lines().find(|l| l.starts_with("Max processes"))?;
            line["Max processes".len()..]
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        });
    let maps = std::fs::read_to_string("/proc/self/maps");
    let mapped = maps.map_or(0, |m| m.lines().count() as u64) + SPARE_MAPPINGS;
    let max_map_count = read("/proc/sys/vm/max_map_count");
    let candidates = [
        (
            "kernel.pid_max".to_string(),
            read("/proc/sys/kernel/pid_max"),
        ),
        (
            "kernel.threads-max".into(),
            read("/proc/sys/kernel/threads-max"),
        ),
        ("ulimit -u".into(), nproc),
        (
            format!(
                "vm.max_map_count {} less {mapped} mapped or spare, at {} a thread",
                fmt_count(max_map_count.unwrap_or(0)),
                MAPPINGS_PER_THREAD
            ),
            max_map_count.map(|m| m.saturating_sub(mapped) / MAPPINGS_PER_THREAD),
        ),
    ];
    candidates
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect()
}

/// Refuses, as bad input, more threads than the tightest of the machine's limits allows:
/// `kernel.pid_max`, `kernel.threads-max` and `ulimit -u` count tasks of the whole machine or
/// user, of which this process's own thread is already one, and `vm.max_map_count` counts this
/// process's mappings, four a thread; so `threads` must be below each. A limit that cannot be
/// read is not checked; a spawn the machine refuses anyway is reported by [`idle_threads`].
pub fn check_thread_limit(threads: u64) -> anyhow::Result<()> {
    let tightest = thread_limits().into_iter().min_by_key(|(_, value)| *value);
    match tightest {
        Some((name, limit)) if threads >= limit => Err(timing::usage_error(format!(
            "--threads {}: this machine allows fewer threads than that ({name}: {}); pass a \
             smaller --threads",
            fmt_count(threads),
            fmt_count(limit)
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read_in_kib() {
        let status = "Name:\tx\nVmSize:\t  9000 kB\nVmHWM:\t  2940 kB\nVmRSS:\t 100 kB\n";
        assert_eq!(field_kib(status, "VmHWM:"), Some(2940));
        assert_eq!(field_kib(status, "VmRSS:"), Some(100));
        assert_eq!(field_kib("VmRSS:\t kB\n", "VmRSS:"), None);
    }

    #[test]
    fn the_row_counts_the_threads_and_their_memory() {
        let m = idle_threads(40).unwrap();
        assert!(m.row.correct, "{:?}", m.row);
        assert_eq!(m.row.result, 40);
        let Outcome::Idle(idle) = m.outcome else {
            panic!("want Idle, got {:?}", m.outcome);
        };
        assert!(idle.peak_rss_kib >= idle.base.rss_kib, "{idle:?}");
        assert!(idle.alive.size_kib > idle.base.size_kib, "{idle:?}");
    }

    #[test]
    fn more_threads_than_the_machine_allows_are_refused() {
        let limits = thread_limits();
        let tightest = limits.iter().map(|&(_, v)| v).min();
        let tightest = tightest.expect("Linux has /proc/sys/kernel/pid_max");
        let err = check_thread_limit(tightest).unwrap_err().to_string();
        assert!(err.contains("this machine allows fewer threads"), "{err}");
        assert!(check_thread_limit(1).is_ok());
    }
}
