//! A starting gun several processes can wait on without spinning: a process-shared POSIX
//! semaphore (`sem_t`) of count 0 in a shared-memory segment. Each child blocks in `sem_wait`;
//! the parent fires by posting once per child, and the kernel wakes each waiter.
//!
//! Why not a flag the children poll, sleeping a little between looks: hundreds of children
//! waking every few microseconds leave the parent, on a small machine, no CPU to fire with; a
//! process blocked in `sem_wait` costs nothing until it is woken. Why not a barrier
//! (`pthread_barrier_t`): a child that dies before reaching it would hold the others, and the
//! parent, there for good; a post nobody takes harms no one. Why no time limit: a child whose
//! parent dies is killed with it (`PR_SET_PDEATHSIG`), and a parent giving up kills its children.

// `sem_init`, `sem_wait` and `sem_post` are C functions on a raw pointer into the mapping; each
// block says why it is sound.
#![allow(unsafe_code)]

use std::io;
use std::time::Duration;

use nix::sys::time::TimeSpec;
use nix::time::{ClockId, clock_gettime};

use crate::shm::Segment;

// ANCHOR: gate
/// A starting gun in a segment, at a byte offset every process using it agrees on.
#[derive(Debug)]
pub struct Gate<'a> {
    segment: &'a Segment,
    at: usize,
}

impl<'a> Gate<'a> {
    /// Bytes the gate takes in a segment, rounded up to a cache line so nothing shares its line.
    pub const SIZE: usize = size_of::<libc::sem_t>().next_multiple_of(64);

    /// Creates the gate, closed, `at` bytes into `segment`: once, by the segment's creator,
    /// before any other process uses it.
    pub fn create(segment: &'a Segment, at: usize) -> io::Result<Self> {
        let gate = Self::attach(segment, at);
        // SAFETY: `attach` checked that a `sem_t` fits at `at` and is aligned there; nothing
        // uses it yet (children start after this), so initialising it races with nothing.
        if unsafe { libc::sem_init(gate.sem(), 1, 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(gate)
    }

    /// The gate the creator made `at` bytes into `segment`, as another process sees it.
    pub fn attach(segment: &'a Segment, at: usize) -> Self {
        let fits = at + Self::SIZE <= segment.len();
        let aligned = at.is_multiple_of(align_of::<libc::sem_t>());
        assert!(fits && aligned, "no room at {at}");
        Self { segment, at }
    }

    fn sem(&self) -> *mut libc::sem_t {
        self.segment.as_ptr().wrapping_add(self.at).cast()
    }

    /// Sleeps until the gate lets this process through (one of the parent's posts).
    pub fn wait(&self) -> io::Result<()> {
        loop {
            // SAFETY: the semaphore was initialised before any process could attach to it (see
            // `create`), and `self` borrows the segment, so it stays mapped for the call.
            if unsafe { libc::sem_wait(self.sem()) } == 0 {
                return Ok(());
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }

    /// [`wait`](Gate::wait), for at most about `timeout`: false if it timed out (or a signal
    /// cut it short), for a caller that must look at something else now and then (step 8's
    /// ring, whether its writer is still alive).
    pub fn wait_for(&self, timeout: Duration) -> io::Result<bool> {
        // `sem_timedwait` takes a deadline on CLOCK_REALTIME. A clock step makes one wait
        // longer or shorter; callers loop and look again, so neither harms them.
        let now = clock_gettime(ClockId::CLOCK_REALTIME)?;
        let deadline = now + TimeSpec::from_duration(timeout);
        // SAFETY: as in `wait`; `deadline` is a valid timespec that outlives the call.
        if unsafe { libc::sem_timedwait(self.sem(), deadline.as_ref()) } == 0 {
            return Ok(true);
        }
        match io::Error::last_os_error() {
            err if matches!(err.raw_os_error(), Some(libc::ETIMEDOUT | libc::EINTR)) => Ok(false),
            err => Err(err),
        }
    }

    /// Lets `waiters` processes through: one post each. `sem_post` orders memory as a release
    /// does, and `sem_wait` as an acquire (POSIX requires it), so what the parent wrote before
    /// is seen by each child after.
    pub fn open(&self, waiters: usize) -> io::Result<()> {
        for _ in 0..waiters {
            // SAFETY: as in `wait`.
            if unsafe { libc::sem_post(self.sem()) } != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }
}
// ANCHOR_END: gate

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_waiter_goes_through_once_the_gate_opens() {
        let segment = Segment::create("unit-gate", 4096).unwrap();
        let gate = Gate::create(&segment, 0).unwrap();
        std::thread::scope(|s| {
            let waiters: Vec<_> = (0..8).map(|_| s.spawn(|| gate.wait())).collect();
            gate.open(waiters.len()).unwrap();
            for waiter in waiters {
                waiter.join().unwrap().unwrap();
            }
        });
    }

    #[test]
    fn a_timed_wait_times_out_when_closed_and_passes_when_open() {
        let segment = Segment::create("unit-gate-timed", 4096).unwrap();
        let gate = Gate::create(&segment, 0).unwrap();
        assert!(!gate.wait_for(Duration::from_millis(5)).unwrap());
        gate.open(1).unwrap();
        assert!(gate.wait_for(Duration::from_secs(5)).unwrap());
    }
}
