//! Step 5: the shared `Value` as Python has it: a counter in shared memory, and a lock in the
//! same memory that every child takes around each `+= 1`.
//!
//! Since step 4: shared memory instead of messages. The parent creates a segment that has no
//! name ([`crate::shm`]) and hands it to K children as their stdin; each maps it, says "ready"
//! and blocks on a starting gun in the segment ([`Gate`]). Then each takes the lock, reads, adds
//! one, writes and releases, `increments` times: Python's `with v.get_lock(): v.value += 1`,
//! with a robust process-shared mutex as the lock ([`SharedLock`]), so a child killed while it
//! holds the lock does not leave the others waiting for it forever.

// ANCHOR: pattern
use std::io::{self, BufReader};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{Counted, Error};
use crate::process::{ChildGuard, READY, WORKER_FLAG, Worker, read_ready, wait_all};
use crate::shm::Segment;
use crate::shm_gate::Gate;
use crate::shm_lock::SharedLock;

/// Word index of the counter.
pub const COUNTER: usize = 0;
/// Byte offset of the starting gun, on the next cache line.
pub const GATE_AT: usize = 64;
/// Byte offset of the lock, on a cache line of its own after the gun's.
pub const LOCK_AT: usize = GATE_AT + Gate::SIZE;
/// Segment size in bytes.
pub const LEN: usize = LOCK_AT + SharedLock::SIZE;

/// The whole step: `children` processes each add one `increments` times under the lock.
pub fn run(worker: &Worker, children: usize, increments: u64) -> Result<Counted, Error> {
    let (segment, mut kids) = start(worker, children, increments)?;
    let lock = SharedLock::attach(&segment, LOCK_AT);
    fire_and_wait(
        &segment,
        &mut kids,
        children as u64 * increments,
        Some(&lock),
    )
}

/// A fresh segment with its gun and its lock, and the children started on it, ready.
pub fn start(
    worker: &Worker,
    children: usize,
    increments: u64,
) -> Result<(Segment, Vec<ChildGuard>), Error> {
    let segment = Segment::create("queue-ipc-locked", LEN)?;
    SharedLock::create(&segment, LOCK_AT)?;
    let role = "shm-counter-locked";
    let kids = start_children(worker, role, &segment, (children, increments))?;
    Ok((segment, kids))
}

/// Creates the starting gun, starts `children` workers of `role` on `segment`, each to add
/// `increments`, and waits until every one has attached (steps 5 and 6).
pub fn start_children(
    worker: &Worker,
    role: &str,
    segment: &Segment,
    (children, increments): (usize, u64),
) -> Result<Vec<ChildGuard>, Error> {
    Gate::create(segment, GATE_AT)?;
    let mut kids = Vec::with_capacity(children);
    for _ in 0..children {
        let mut command = Command::new(worker.path());
        command.args([WORKER_FLAG, role, "--count", &increments.to_string()]);
        kids.push(ChildGuard::spawn_with_stdin(
            &mut command,
            segment.for_child()?,
        )?);
    }
    // "ready" once mapped, or end of file if it died first: either way, the clock may start.
    for kid in &mut kids {
        read_ready(&mut BufReader::new(kid.take_stdout()?))?;
    }
    Ok(kids)
}

/// Fires the starting gun, waits for every child and reads the counter (steps 5 and 6), under
/// `lock` if the children used one.
pub fn fire_and_wait(
    segment: &Segment,
    kids: &mut [ChildGuard],
    expected: u64,
    lock: Option<&SharedLock<'_>>,
) -> Result<Counted, Error> {
    Gate::attach(segment, GATE_AT).open(kids.len())?;
    let failures = wait_all(kids)?;
    // Taken once more, here, because this is where a child that died holding it shows: the
    // kernel hands it over (EOWNERDEAD) instead of letting this wait forever, as a `sem_t`
    // would. The counter is one word, written by one store, so it is whole either way.
    let takeovers = match lock {
        Some(lock) => {
            drop(lock.lock()?);
            lock.takeovers().load(Ordering::Relaxed)
        }
        None => 0,
    };
    // Relaxed is enough: every child has been reaped, and the kernel orders a process's writes
    // before its exit is reported to the parent.
    let total = segment.words()[COUNTER].load(Ordering::Relaxed);
    Ok(Counted {
        expected,
        total,
        failures,
        takeovers,
    })
}

/// The loop each child runs. A load and a store, not one atomic add: the lock is what makes
/// them one step. Relaxed is enough, since locking and unlocking a mutex order memory (POSIX
/// requires it), as an acquire and a release would.
pub fn count(lock: &SharedLock<'_>, counter: &AtomicU64, increments: u64) -> io::Result<()> {
    for _ in 0..increments {
        let _held = lock.lock()?;
        let value = counter.load(Ordering::Relaxed);
        counter.store(value + 1, Ordering::Relaxed);
    }
    Ok(())
}

/// The child's side: attach to the segment on stdin, say ready, wait for the gun, count.
pub fn child(increments: u64) -> Result<(), Error> {
    let segment = Segment::inherited(LEN)?;
    println!("{READY}");
    Gate::attach(&segment, GATE_AT).wait()?;
    let lock = SharedLock::attach(&segment, LOCK_AT);
    count(&lock, &segment.words()[COUNTER], increments)?;
    Ok(())
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_counting_under_the_shared_lock_lose_nothing() {
        let segment = Segment::create("unit-locked", LEN).unwrap();
        let lock = SharedLock::create(&segment, LOCK_AT).unwrap();
        let counter = &segment.words()[COUNTER];
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| count(&lock, counter, 10_000).unwrap());
            }
        });
        assert_eq!(counter.load(Ordering::Relaxed), 40_000);
    }
}
