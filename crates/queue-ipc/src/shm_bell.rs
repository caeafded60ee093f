//! A wait for another process that costs nothing while it waits: spin a little, then sleep on a
//! process-shared semaphore that the other process posts only when the waiter says it sleeps.
//! Step 8's ring has two, one per side: the reader waits for a message, the writer for space.
//!
//! Why not spin only: on two CPUs a waiter that spins takes the core its peer needs to make
//! progress. Why not `thread::yield_now` in a loop: it returns at once when no other thread
//! wants this CPU, so it spins as well, with a system call per turn. Why not post on every
//! message: a post is cheap, but a semaphore the waiter does not take keeps counting up, and a
//! waiter that did sleep would wake once per message instead of once. Why a time limit on each
//! sleep: the waiter must look now and then whether its peer is still alive (a dead writer
//! never posts), and a wake-up lost to a mistake costs a nap, not a hang.

// The flag and the semaphore are in the mapping, reached through raw pointers.
#![allow(unsafe_code)]

use std::io;
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::time::Duration;

use crate::shm::Segment;
use crate::shm_gate::Gate;

// ANCHOR: bell
/// Looks at the condition before a waiter goes to sleep.
const SPINS: u32 = 200;
/// The longest sleep before a waiter looks again (at the condition and at `gone`).
const NAP: Duration = Duration::from_millis(10);

/// A waiter's flags (asleep, closed: a cache line of their own) and its semaphore, `at` bytes
/// into a segment.
#[derive(Debug, Clone, Copy)]
pub struct Bell<'a> {
    segment: &'a Segment,
    at: usize,
}

impl<'a> Bell<'a> {
    /// Bytes a bell takes: the flags' cache line, then the semaphore.
    pub const SIZE: usize = 64 + Gate::SIZE;

    /// Creates the bell, nobody asleep: once, by the segment's creator, before a child starts.
    pub fn create(segment: &'a Segment, at: usize) -> io::Result<Self> {
        Gate::create(segment, at + 64)?;
        Ok(Self::attach(segment, at))
    }

    /// The bell the creator made `at` bytes into `segment`, as another process sees it.
    pub fn attach(segment: &'a Segment, at: usize) -> Self {
        assert!(at.is_multiple_of(64) && at + Self::SIZE <= segment.len());
        Self { segment, at }
    }

    fn asleep(&self) -> &AtomicU64 {
        &self.segment.words()[self.at / 8]
    }

    fn closed(&self) -> &AtomicU64 {
        &self.segment.words()[self.at / 8 + 1]
    }

    fn semaphore(&self) -> Gate<'a> {
        Gate::attach(self.segment, self.at + 64)
    }

    /// Waits until `ready` holds (true), or until the bell is closed or `gone` says `ready`
    /// never will (false, after a last look at `ready`: what the peer did before it went still
    /// counts).
    ///
    /// The waiter stores its flag, then looks at `ready`; the peer ([`Bell::ring`]) stores what
    /// makes `ready` hold, then looks at the flag; a SeqCst fence between the store and the look
    /// on both sides means one of them sees the other's store: the waiter does not sleep
    /// through a change, or the peer sees the flag and posts.
    pub fn wait_until(
        &self,
        ready: impl Fn() -> bool,
        mut gone: impl FnMut() -> bool,
    ) -> io::Result<bool> {
        for _ in 0..SPINS {
            if ready() {
                return Ok(true);
            }
            std::hint::spin_loop();
        }
        loop {
            self.asleep().store(1, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            let done = if ready() {
                Some(true)
            } else if self.closed().load(Ordering::Relaxed) == 1 || gone() {
                Some(ready())
            } else {
                None
            };
            if let Some(done) = done {
                self.asleep().store(0, Ordering::Relaxed);
                return Ok(done);
            }
            self.semaphore().wait_for(NAP)?;
        }
    }

    /// Called after a store that may make the waiter's `ready` hold: posts if it sleeps.
    pub fn ring(&self) -> io::Result<()> {
        fence(Ordering::SeqCst);
        let asleep = self.asleep();
        // The plain load first: the swap, a locked instruction, only when someone sleeps.
        if asleep.load(Ordering::Relaxed) == 1 && asleep.swap(0, Ordering::Relaxed) == 1 {
            self.semaphore().open(1)?;
        }
        Ok(())
    }

    /// The peer stops for good: the waiter, asleep or not, stops waiting, now and from now on.
    /// The flag is seen as `ring` makes the waiter see a store: by the fence in each.
    pub fn close(&self) -> io::Result<()> {
        self.closed().store(1, Ordering::Relaxed);
        self.ring()
    }
}
// ANCHOR_END: bell

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;

    #[test]
    fn a_sleeping_waiter_is_woken_by_the_ring_and_a_gone_peer_ends_the_wait() {
        let segment = Segment::create("unit-bell", 4096).unwrap();
        let bell = Bell::create(&segment, 64).unwrap();
        let flag = AtomicBool::new(false);
        std::thread::scope(|s| {
            let waiter = s.spawn(|| bell.wait_until(|| flag.load(Ordering::Acquire), || false));
            std::thread::sleep(Duration::from_millis(30));
            flag.store(true, Ordering::Release);
            bell.ring().unwrap();
            assert!(waiter.join().unwrap().unwrap());
        });
        assert!(!bell.wait_until(|| false, || true).unwrap());
        bell.close().unwrap();
        assert!(!bell.wait_until(|| false, || false).unwrap());
    }
}
