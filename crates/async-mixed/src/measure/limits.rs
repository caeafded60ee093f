//! How many threads this machine lets one process run at once, from the kernel's limits, so
//! `wait-threads` can refuse a count that cannot run before it starts any.

use std::fs;

use anyhow::Context as _;
use timing::{fmt_count, usage_error};

/// The kernel's limits on threads, from `/proc/sys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadLimits {
    /// `kernel.pid_max`: every thread takes a process id, so no more threads than this can live.
    pub pid_max: u64,
    /// `kernel.threads-max`: threads on the whole machine.
    pub threads_max: u64,
    /// `vm.max_map_count`: memory maps a process may hold; each thread takes
    /// [`MAPS_PER_THREAD`].
    pub max_map_count: u64,
    /// Maps this process holds already (lines of `/proc/self/maps`).
    pub maps_in_use: u64,
}

/// Memory maps one std thread adds: its stack and the guard page below it, and the signal stack
/// std gives every thread (to report a stack overflow) with its own guard page.
///
/// Counted in advance because running out is not a spawn error: the spawn succeeds, the new
/// thread fails to map its signal stack, and std aborts the whole process.
pub const MAPS_PER_THREAD: u64 = 4;

/// Maps left free for what else the process maps while the threads start (allocator arenas).
const MAPS_SPARE: u64 = 256;

impl ThreadLimits {
    /// Reads the three limits.
    pub fn read() -> anyhow::Result<Self> {
        let read = |path: &str| -> anyhow::Result<u64> {
            let text = fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
            text.trim()
                .parse()
                .with_context(|| format!("{path} holds {text:?}, not a number"))
        };
        Ok(Self {
            pid_max: read("/proc/sys/kernel/pid_max")?,
            threads_max: read("/proc/sys/kernel/threads-max")?,
            max_map_count: read("/proc/sys/vm/max_map_count")?,
            maps_in_use: fs::read_to_string("/proc/self/maps")
                .context("reading /proc/self/maps")?
                .lines()
                .count() as u64,
        })
    }

    /// The most threads that can run here at once: every thread takes a process id (so no
    /// more than `pid_max`, of which other processes hold some), counts against `threads-max`,
    /// and takes [`MAPS_PER_THREAD`] of the maps this process has left.
    pub fn cap(self) -> u64 {
        let maps = self
            .max_map_count
            .saturating_sub(self.maps_in_use + MAPS_SPARE);
        self.pid_max
            .min(self.threads_max)
            .min(maps / MAPS_PER_THREAD)
    }

    /// Refuses `waits` threads over [`cap`](Self::cap): those cannot all run whatever else the
    /// machine does. Under it a spawn can still fail (other processes hold process ids), and
    /// that failure is reported where it happens.
    pub fn refuse(self, waits: u64) -> anyhow::Result<()> {
        let cap = self.cap();
        if waits > cap {
            return Err(usage_error(format!(
                "--waits {} is more threads than this machine can run at once ({}): pass \
                 --waits {} or fewer for wait-threads, or use wait-tasks",
                fmt_count(waits),
                self.describe(),
                fmt_count(cap)
            )));
        }
        Ok(())
    }

    /// The limits as a line says them.
    pub fn describe(self) -> String {
        format!(
            "kernel.pid_max {}, kernel.threads-max {}, vm.max_map_count {} ({} in use, {} a \
             thread)",
            self.pid_max, self.threads_max, self.max_map_count, self.maps_in_use, MAPS_PER_THREAD
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_refuse_only_what_cannot_run() {
        let limits = ThreadLimits {
            pid_max: 32_768,
            threads_max: 190_000,
            max_map_count: 1_000_000,
            maps_in_use: 744,
        };
        assert!(limits.refuse(32_768).is_ok());
        let err = limits.refuse(32_769).unwrap_err();
        assert!(err.is::<timing::UsageError>(), "{err:#}");
        assert!(format!("{err}").contains("kernel.pid_max 32768"), "{err}");
        // Four maps a thread: 65 530 less 1 000 in use and spare leave room for 16 132.
        let maps = ThreadLimits {
            max_map_count: 65_530,
            ..limits
        };
        assert_eq!(maps.cap(), 16_132);
        assert!(maps.refuse(16_133).is_err());
    }
}
