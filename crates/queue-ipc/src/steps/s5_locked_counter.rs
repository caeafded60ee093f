//! Step 5: the shared `Value` as Python has it: a counter in POSIX shared memory, and a lock in
//! the same memory that every child takes around each `+= 1`.
//!
//! Since step 4: shared memory instead of messages. The parent creates a segment ([`crate::shm`]),
//! K children map it and say "ready", and the parent unlinks the name at once: the mappings
//! outlive it, so nothing can leak from then on, even on `kill -9`. At a starting gun each child
//! takes the lock, reads, adds one, writes and releases, `increments` times: Python's
//! `with v.get_lock(): v.value += 1`, with a POSIX semaphore as the lock ([`SharedLock`]).

use std::io::{self, BufReader};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{Counted, Error};
use crate::process::{ChildGuard, READY, WORKER_FLAG, Worker, read_ready, wait_all};
use crate::shm::{Segment, segment_name};
use crate::shm_lock::SharedLock;

/// Word index of the start flag: children count once the parent sets it to 1.
pub const GO: usize = 0;
/// Word index of the counter, on a cache line of its own, away from the polled flag.
pub const COUNTER: usize = 8;
/// Byte offset of the lock, on the next cache line.
pub const LOCK_AT: usize = 128;
/// Segment size in bytes.
pub const LEN: usize = LOCK_AT + SharedLock::SIZE;

/// The whole step: `children` processes each add one `increments` times under the lock.
pub fn run(worker: &Worker, children: usize, increments: u64) -> Result<Counted, Error> {
    let (segment, mut kids) = start(worker, children, increments)?;
    fire_and_wait(&segment, &mut kids, children as u64 * increments)
}

/// A fresh segment with its lock, and the children started on it, ready.
pub fn start(
    worker: &Worker,
    children: usize,
    increments: u64,
) -> Result<(Segment, Vec<ChildGuard>), Error> {
    let mut segment = Segment::create(&segment_name("locked"), LEN)?;
    SharedLock::create(&segment, LOCK_AT)?;
    let role = "shm-counter-locked";
    let kids = start_children(worker, role, &mut segment, (children, increments))?;
    Ok((segment, kids))
}

/// Starts `children` workers of `role` on `segment`, each to add `increments`, and waits until
/// every one has attached (steps 5 and 6).
pub fn start_children(
    worker: &Worker,
    role: &str,
    segment: &mut Segment,
    (children, increments): (usize, u64),
) -> Result<Vec<ChildGuard>, Error> {
    let mut kids = Vec::with_capacity(children);
    for _ in 0..children {
        let mut command = Command::new(worker.path());
        let count = increments.to_string();
        command.args([WORKER_FLAG, role]);
        command.args(["--name", segment.name(), "--count", &count]);
        kids.push(ChildGuard::spawn(&mut command)?);
    }
    // "ready" once mapped, or end of file if it died first: either way it will not map the
    // name any more, so the name can go, and with it any chance of a leak.
    for kid in &mut kids {
        read_ready(&mut BufReader::new(kid.take_stdout()?))?;
    }
    segment.unlink().map_err(io::Error::from)?;
    Ok(kids)
}

/// Fires the starting gun, waits for every child and reads the counter (steps 5 and 6).
pub fn fire_and_wait(
    segment: &Segment,
    kids: &mut [ChildGuard],
    expected: u64,
) -> Result<Counted, Error> {
    // Release pairs with the children's Acquire load of `GO`.
    segment.words()[GO].store(1, Ordering::Release);
    let failures = wait_all(kids)?;
    // Relaxed is enough: every child has been reaped, and the kernel orders a process's writes
    // before its exit is reported to the parent.
    let total = segment.words()[COUNTER].load(Ordering::Relaxed);
    Ok(Counted {
        expected,
        total,
        failures,
    })
}

/// The loop each child runs. A load and a store, not one atomic add: the lock is what makes
/// them one step. Relaxed is enough, since `sem_wait` and `sem_post` order memory (POSIX
/// requires it), as an acquire and a release would.
pub fn count(lock: &SharedLock<'_>, counter: &AtomicU64, increments: u64) -> io::Result<()> {
    for _ in 0..increments {
        let _held = lock.lock()?;
        let value = counter.load(Ordering::Relaxed);
        counter.store(value + 1, Ordering::Relaxed);
    }
    Ok(())
}

/// The child's side: attach, say ready, wait for the gun, count.
pub fn child(name: &str, increments: u64) -> Result<(), Error> {
    let segment = Segment::open(name, LEN)?;
    println!("{READY}");
    wait_for_go(&segment.words()[GO])?;
    let lock = SharedLock::attach(&segment, LOCK_AT);
    count(&lock, &segment.words()[COUNTER], increments)?;
    Ok(())
}

/// Sleeps in short steps until the parent fires the starting gun, or gives up after 30 s.
/// Sleeping, not spinning: on two cores, K spinning children would steal the CPU the parent
/// needs to fire it.
pub fn wait_for_go(go: &AtomicU64) -> io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    // Acquire pairs with the parent's Release store of 1.
    while go.load(Ordering::Acquire) == 0 {
        if Instant::now() > deadline {
            return Err(io::Error::other("the parent never gave the start signal"));
        }
        std::thread::sleep(Duration::from_micros(20));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_counting_under_the_shared_lock_lose_nothing() {
        let name = format!("/queue-ipc-{}-unit-locked", std::process::id());
        let mut segment = Segment::create(&name, LEN).unwrap();
        segment.unlink().unwrap();
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
