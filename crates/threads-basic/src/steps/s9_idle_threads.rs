//! Step 9: threads that only wait, all alive at once, to see what a thread costs in memory.
//!
//! Since step 8: step 7 started a thread per page and step 8 bounded them; here `n` threads are
//! started and held, each blocked at a gate, until every one is alive, so the caller can read the
//! process's memory with `n` threads standing and divide by `n`. Then the gate opens and all are
//! joined.
//!
//! Why a thread costs what it does: its stack is address space reserved when it starts (2 MiB
//! for a Rust thread unless [`thread::Builder::stack_size`] or `RUST_MIN_STACK` says otherwise;
//! Python's threads take the C library's default, the `ulimit -s` size), but only the pages it
//! touches become resident, and a thread that only waits touches a few KiB. The C library keeps
//! the thread's descriptor and thread-locals at the top of that mapping and a guard page below
//! it; Rust's std adds a small signal stack with a guard page of its own, to report a stack
//! overflow on: four memory mappings a thread, counted against `vm.max_map_count`. A thread
//! that calls `malloc` (the C library registering its thread-local destructors does) may get an
//! arena of its own, 64 MiB of address space each, up to eight per core: that is most of the
//! address space a handful of threads reserve. The kernel adds a task struct and a kernel stack
//! per thread, which the machine pays but the process's resident set does not show.
//!
//! So a smaller `stack_size` saves address space, not resident memory, and the ceiling on idle
//! threads is one of the kernel's counts (`vm.max_map_count`, `kernel.pid_max`, `threads-max`,
//! `ulimit -u`), long before RAM.

// ANCHOR: pattern
use std::sync::{Condvar, Mutex, PoisonError};
use std::thread;

use super::{Error, join_all_scoped};

/// The stack each idle thread reserves: Rust's default for a spawned thread, written out so the
/// knob shows. Passing it explicitly also means `RUST_MIN_STACK` cannot change the measurement.
pub const STACK_SIZE: usize = 2 * 1024 * 1024;

/// What [`hold_idle`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held<R> {
    /// Threads that were alive and blocked at the gate at the same moment.
    pub alive_at_once: usize,
    /// What `while_all_alive` returned.
    pub seen: R,
}

/// Where the idle threads wait: how many have arrived, how many the main thread started (known
/// once it has stopped spawning), and whether the gate is open.
#[derive(Debug, Default)]
struct Gate {
    arrived: usize,
    started: Option<usize>,
    open: bool,
}

/// Starts `n` threads with `stack_size` bytes of stack each, waits until every one is alive and
/// blocked, calls `while_all_alive` (the moment to read the process's memory), then releases and
/// joins them all.
///
/// A spawn that fails midway (the machine is out of threads or address space) stops the
/// spawning; the threads already started are still released and joined, then the failure is the
/// error. A `Barrier::new(n + 1)` would read shorter, and is why this is not one: a barrier
/// waits for exactly `n + 1` arrivals, so after a failed spawn the started threads would block
/// on it forever and the join would hang.
pub fn hold_idle<R>(
    n: usize,
    stack_size: usize,
    while_all_alive: impl FnOnce() -> R,
) -> Result<Held<R>, Error> {
    // One `Mutex` over the whole gate, and a `Condvar` for each direction: the last thread in
    // wakes the main thread, the main thread wakes them all. No lock is held across a panic
    // here, so a poisoned lock can only come from a panic elsewhere; its data is still a valid
    // count, hence `into_inner` instead of a second panic.
    let gate = Mutex::new(Gate::default());
    let lock = || gate.lock().unwrap_or_else(PoisonError::into_inner);
    let (all_arrived, opened) = (Condvar::new(), Condvar::new());
    let last_in = |g: &Gate| g.started == Some(g.arrived);

    thread::scope(|s| {
        let wait_at_gate = || {
            let mut g = lock();
            g.arrived += 1;
            if last_in(&g) {
                all_arrived.notify_one();
            }
            // Blocked in the kernel, using no CPU, until the gate opens.
            let _open = opened
                .wait_while(g, |g| !g.open)
                .unwrap_or_else(PoisonError::into_inner);
        };
        // Grown as threads start rather than sized for `n` up front: an `n` the machine cannot
        // hold then costs no allocation beyond the threads that did start.
        let mut handles = Vec::new();
        let mut failed = None;
        for i in 0..n {
            let name = format!("idle-{i}");
            let builder = thread::Builder::new().name(name.clone());
            match builder.stack_size(stack_size).spawn_scoped(s, wait_at_gate) {
                Ok(handle) => handles.push(handle),
                Err(source) => {
                    failed = Some(Error::Spawn { name, source });
                    break;
                }
            }
        }

        // Told how many to expect only now, so no thread could be "last" before: until then the
        // main thread checks the count itself, under the same lock, before it sleeps.
        let mut g = lock();
        g.started = Some(handles.len());
        let g = all_arrived
            .wait_while(g, |g| !last_in(g))
            .unwrap_or_else(PoisonError::into_inner);
        let alive_at_once = g.arrived;
        drop(g);
        let seen = while_all_alive();

        lock().open = true;
        opened.notify_all();
        // Every thread joined before returning, on the failure path too.
        join_all_scoped(handles)?;
        match failed {
            Some(err) => Err(err),
            None => Ok(Held {
                alive_at_once,
                seen,
            }),
        }
    })
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    /// The threads of this process, as the kernel counts them.
    fn threads_now() -> usize {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("Threads:")).unwrap();
        line["Threads:".len()..].trim().parse().unwrap()
    }

    #[test]
    fn every_thread_is_alive_at_once_before_any_is_released() {
        for n in [0, 1, 64] {
            let held = hold_idle(n, STACK_SIZE, threads_now).unwrap();
            assert_eq!(held.alive_at_once, n);
            // Other tests may run beside this one, so at least: the idle ones and this one.
            assert!(held.seen > n, "{} threads for {n} idle", held.seen);
        }
    }

    #[test]
    fn a_small_stack_is_enough_for_a_thread_that_only_waits() {
        let held = hold_idle(32, 64 * 1024, || 7).unwrap();
        assert_eq!(
            held,
            Held {
                alive_at_once: 32,
                seen: 7
            }
        );
    }
}
