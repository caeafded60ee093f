//! Step 6: the same shared counter with no lock: each child calls `fetch_add` on it.
//!
//! Since step 5: the lock, the load and the store become one atomic read-modify-write, a single
//! locked instruction, so no increment can be lost and no lock is there to forget, wait for, or
//! be left holding. Python has no atomic add on a `Value`, which is why it needs step 5's lock.
//! The segment, the children and the starting gun are step 5's.

// ANCHOR: pattern
use std::sync::atomic::{AtomicU64, Ordering};

use super::s5_locked_counter::{COUNTER, GATE_AT, LEN, fire_and_wait, start_children};
use super::{Counted, Error};
use crate::process::{ChildGuard, READY, Worker};
use crate::shm::Segment;
use crate::shm_gate::Gate;

/// The whole step: `children` processes each add one `increments` times with `fetch_add`.
pub fn run(worker: &Worker, children: usize, increments: u64) -> Result<Counted, Error> {
    let (segment, mut kids) = start(worker, children, increments)?;
    fire_and_wait(&segment, &mut kids, children as u64 * increments, None)
}

/// A fresh segment, and the children started on it, ready.
pub fn start(
    worker: &Worker,
    children: usize,
    increments: u64,
) -> Result<(Segment, Vec<ChildGuard>), Error> {
    let segment = Segment::create("queue-ipc-counter", LEN)?;
    let kids = start_children(worker, "shm-counter", &segment, (children, increments))?;
    Ok((segment, kids))
}

/// The loop each child runs. Relaxed: the read-modify-write is atomic whatever the ordering,
/// which is all a counter needs; the parent reads the total only after every child has exited.
pub fn count(counter: &AtomicU64, increments: u64) {
    for _ in 0..increments {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The child's side: attach to the segment on stdin, say ready, wait for the gun, count.
pub fn child(increments: u64) -> Result<(), Error> {
    let segment = Segment::inherited(LEN)?;
    println!("{READY}");
    Gate::attach(&segment, GATE_AT).wait()?;
    count(&segment.words()[COUNTER], increments);
    Ok(())
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_adding_to_one_atomic_lose_nothing() {
        let counter = AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| count(&counter, 10_000));
            }
        });
        assert_eq!(counter.load(Ordering::Relaxed), 40_000);
    }
}
