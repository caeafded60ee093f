//! CPU-bound work split over threads and over processes: the same sum four ways, timed.
//!
//! Python original: the tutorials' `cpu_intensive_task(n)` sums `range(n)` in a loop, once per
//! `multiprocessing.Process`, and show that two *threads* doing the same take as long as one
//! (the GIL lets one thread run Python at a time) while two *processes* take half. Rust has no
//! GIL: its threads run the loop on every core at once, so [`threads`] scales like the process
//! variants do, without a second address space. Processes are still shown, both ways Python
//! starts them: [`fork()`] (`nix::unistd::fork`, the child is a copy of the parent, results come
//! back through a pipe, every child is reaped with `waitpid`) and [`spawn()`] (the program
//! re-executes itself as a hidden `worker` subcommand, Python's "spawn" start method, the result
//! comes back on the child's stdout).
//!
//! What to watch for in the output: `speedup` (wall time of [`sequential`] over the variant's) near
//! the number of workers for all three parallel variants, `efficiency` (speedup / workers) near
//! 100%, and the memory columns. A run below 90% efficiency is explained in the verdict by `cpus`,
//! its CPU seconds (`getrusage`) over its wall seconds: fewer CPUs busy than workers means a worker
//! sat without one, waiting for a CPU another process held or done early while a slower one ran on
//! (a virtual machine's vCPUs can run the same loop at different speeds from one second to the
//! next); all of them busy means each task ran slower beside the others than alone. (Linux shares
//! CPUs between sessions first, "autogroup": a build started from another terminal takes half of
//! two cores even under `nice`, and every parallel row then shows about 1.0 CPUs and a speedup near
//! 1.) Each variant runs `--rounds` times (default 3), the variants interleaved so that a slow
//! spell of a shared machine hits them all alike, and each row is the median run, its range in the
//! note (see [`median_of`]). `peak_rss_kib` is the parent's own peak resident memory
//! (`getrusage(RUSAGE_SELF)`), a high-water mark of the run so far, taken in the first round:
//! threads add only their stacks to it. `child_peak_rss_kib` is `getrusage(RUSAGE_CHILDREN)`, and
//! Linux reports there the peak of the *largest single* child reaped so far, not the sum of all
//! children: processes cost roughly `workers` times that on top of the parent. A forked child's
//! figure counts the heap and stack pages it still shares copy-on-write with the parent
//! (overstating what fork adds) but not the program's code until it touches it, so it can sit well
//! below the parent's; a re-executed child loads and runs a whole program, and its pages are its
//! own. See [`memory`].
//!
//! Every child is accounted for: a child that exits non-zero or is killed by a signal is
//! reported by pid and cause and fails the run (exit status 1); Ctrl-C or SIGTERM while children
//! run kills and reaps them before the program exits (status 130). See [`children`].
//!
//! Run it: `cargo run --release -p cpu-processes` (all four variants, one worker per core), or
//! `cargo run --release -p cpu-processes -- --variant fork --workers 4 --n 100000000`.
//!
//! What each way costs to start, start to join, from `cargo bench -p cpu-processes --bench
//! start` (divan medians on the project's 2-vCPU machine while other builds ran, so read them as
//! ratios; a first run gave 20.5 µs, 91 µs, 2.18 ms and 2.29 ms): a thread 14.7 µs, a forked
//! child (`fork` + `_exit` + `waitpid`) 179 µs, `/bin/true` through `std::process::Command`
//! 1.01 ms, and this program re-executed as its `worker` 1.41 ms. Against a task of a tenth of
//! a second these are 0.01 % to 1.5 %; they matter when tasks are small (see the `pool-batch`
//! lesson).

pub mod children;
pub mod fork;
pub mod memory;
pub mod spawn;
mod summary;

use std::hint::black_box;
use std::thread;
use std::time::Duration;

use timing::{Row, Stopwatch};

pub use children::Error;
pub use fork::fork;
pub use spawn::spawn;
pub use summary::{annotate, median_of};

/// How the child of task 0 fails on purpose, for the tests of failure reporting (the hidden
/// `--crash-child` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Crash {
    /// The child exits with status 3 before working.
    Exit,
    /// The child kills itself with SIGKILL before working, as the OOM killer would. (Not
    /// `abort()`: SIGABRT can leave a core file behind.)
    Kill,
}

impl Crash {
    /// The flag value, as the re-executed worker parses it.
    pub fn as_arg(self) -> &'static str {
        match self {
            Crash::Exit => "exit",
            Crash::Kill => "kill",
        }
    }
}

/// The lesson name, as rows and the binary spell it.
pub const LESSON: &str = "cpu-processes";

/// The tutorial's `cpu_intensive_task(n)`: the sum of `0..n`, one addition at a time.
///
/// `std::hint::black_box` hides each `i` from the optimiser. Without it LLVM recognises the loop
/// as an arithmetic series and replaces it with `n * (n - 1) / 2` (its "scalar evolution" pass
/// does exactly that), so the "work" would take nanoseconds and every variant would measure
/// only its own start-up cost. `wrapping_add` rather than `+`: callers only pass an `n` whose
/// sum fits (see [`expected_total`]), and `+` would add a debug-build overflow check whose panic
/// path allocates, which a forked child must never do.
///
/// `#[inline(never)]`: every variant then runs this one copy of the machine code. Inlined, each
/// call site got its own copy of the loop, placed and register-allocated differently, and on
/// the project's machine the same loop ran up to twice as fast at one site as at another, which
/// the table would have blamed on threads or processes.
#[inline(never)]
pub fn cpu_intensive_task(n: u64) -> u64 {
    let mut total: u64 = 0;
    for i in 0..n {
        total = total.wrapping_add(black_box(i));
    }
    total
}

/// The closed form of one task's sum, `0 + 1 + ... + (n - 1) = n (n - 1) / 2`, or `None` when
/// it does not fit in a `u64`. Computed in `u128`, so the product itself cannot overflow.
pub fn series_sum(n: u64) -> Option<u64> {
    let n = u128::from(n);
    u64::try_from(n * n.saturating_sub(1) / 2).ok()
}

/// What `workers` tasks of size `n` add up to, by the closed form: the `expected` of every row,
/// computed without running the code under test. `None` when the total overflows a `u64`.
pub fn expected_total(n: u64, workers: usize) -> Option<u64> {
    series_sum(n)?.checked_mul(u64::try_from(workers).ok()?)
}

/// The largest `n` whose total over `workers` tasks fits in a `u64`, for the error message.
pub fn max_n(workers: usize) -> u64 {
    // `expected_total` is monotonic in `n`: binary search for the last `n` where it fits.
    let (mut fits, mut overflows) = (1_u64, u64::MAX);
    while overflows - fits > 1 {
        let mid = fits + (overflows - fits) / 2;
        if expected_total(mid, workers).is_some() {
            fits = mid;
        } else {
            overflows = mid;
        }
    }
    fits
}

/// `sequential`: the baseline. The same `workers` tasks, one after another, on this thread.
pub fn sequential(n: u64, workers: usize) -> Row {
    let (total, wall) = Stopwatch::time(|| (0..workers).map(|_| cpu_intensive_task(n)).sum());
    measured_row("sequential", 1, n, workers, total, wall)
}

/// `threads`: one OS thread per task, all in this process. There is no GIL to take turns on, so
/// the tasks run on all cores at once: this is the row Python's two-threads run cannot match.
///
/// Scoped threads (`thread::scope`) may borrow from this stack frame and are always joined;
/// each handle is joined explicitly so that a panicking worker becomes an error rather than a
/// lost result (a scope would re-raise the panic instead).
pub fn threads(n: u64, workers: usize) -> Result<Row, Error> {
    let (total, wall) = Stopwatch::time(|| {
        thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|index| {
                    thread::Builder::new()
                        .name(format!("worker-{index}"))
                        .spawn_scoped(scope, move || cpu_intensive_task(n))
                        .map_err(Error::ThreadStart)
                })
                .collect::<Result<_, _>>()?;
            handles.into_iter().try_fold(0_u64, |total, handle| {
                let sum = handle.join().map_err(|_| Error::ThreadPanicked)?;
                Ok(total.wrapping_add(sum))
            })
        })
    });
    Ok(measured_row("threads", workers, n, workers, total?, wall))
}

/// A row checked against the closed form, with the parent's memory so far.
fn measured_row(
    variant: &str,
    workers: usize,
    n: u64,
    tasks: usize,
    total: u64,
    wall: Duration,
) -> Row {
    Row::new(LESSON, variant)
        .workers(workers)
        .items(n.saturating_mul(tasks as u64))
        .check(expected_total(n, tasks).unwrap_or(0), total)
        .wall(wall)
        .extra("peak_rss_kib", memory::self_peak_kib())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_agrees_with_the_closed_form() {
        for n in [0, 1, 2, 3, 10, 1000, 12_345] {
            // The reference is a plain fold, independent of both functions under test.
            let reference: u64 = (0..n).sum();
            assert_eq!(cpu_intensive_task(n), reference, "n = {n}");
            assert_eq!(series_sum(n), Some(reference), "n = {n}");
        }
    }

    #[test]
    fn overflow_is_detected_not_wrapped() {
        // n = 2^32: one sum is 2^63 - 2^31, two are 2^64 - 2^32 (fits), three do not fit.
        let n = 1_u64 << 32;
        assert_eq!(expected_total(n, 2), Some(u64::MAX - (1 << 32) + 1));
        assert_eq!(expected_total(n, 3), None);
        assert_eq!(series_sum(u64::MAX), None);
        let max = max_n(2);
        assert!(expected_total(max, 2).is_some());
        assert!(expected_total(max + 1, 2).is_none());
    }

    #[test]
    fn sequential_and_threads_are_exact() {
        let seq = sequential(10_000, 3);
        assert!(seq.correct, "{seq:?}");
        assert_eq!(seq.expected, 3 * 49_995_000);
        let thr = threads(10_000, 3).unwrap();
        assert!(thr.correct, "{thr:?}");
        assert_eq!(thr.workers, 3);
    }
}
