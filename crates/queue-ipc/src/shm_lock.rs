//! A lock that several processes can share: a POSIX semaphore of count 1 (`sem_t`) placed in a
//! shared-memory segment. Python's `multiprocessing` builds its `Lock`, and so a `Value`'s lock,
//! on the same C type.
//!
//! Why not `std::sync::Mutex` in the segment: it waits on a *private* futex, which the kernel
//! keys by the waiter's address space, so a holder in another process would never wake it.
//! `sem_init` with `pshared = 1` asks for a semaphore every process mapping it may use.

// `sem_init`, `sem_wait` and `sem_post` are C functions on a raw pointer into the mapping: this
// module and `shm` are where the lesson needs `unsafe`, and each block says why it is sound.
#![allow(unsafe_code)]

use std::io;

use crate::shm::Segment;

/// A lock in a segment, at a byte offset every process using it agrees on.
#[derive(Debug)]
pub struct SharedLock<'a> {
    segment: &'a Segment,
    at: usize,
}

impl<'a> SharedLock<'a> {
    /// Bytes the lock takes in a segment, rounded up to a cache line so nothing shares its line.
    pub const SIZE: usize = size_of::<libc::sem_t>().next_multiple_of(64);

    /// Creates the lock `at` bytes into `segment`: once, by the segment's owner, before any other
    /// process or thread uses it.
    pub fn create(segment: &'a Segment, at: usize) -> io::Result<Self> {
        let lock = Self::attach(segment, at);
        // SAFETY: `attach` checked that a `sem_t` fits at `at` and is aligned there; nothing uses
        // the semaphore yet (children start after this), so initialising it races with nothing.
        if unsafe { libc::sem_init(lock.sem(), 1, 1) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(lock)
    }

    /// The lock the owner created `at` bytes into `segment`, as another process that mapped it
    /// sees it.
    pub fn attach(segment: &'a Segment, at: usize) -> Self {
        let fits = at + Self::SIZE <= segment.words().len() * 8;
        assert!(
            fits && at.is_multiple_of(align_of::<libc::sem_t>()),
            "no room at {at}"
        );
        Self { segment, at }
    }

    fn sem(&self) -> *mut libc::sem_t {
        self.segment.as_ptr().wrapping_add(self.at).cast()
    }

    /// Takes the lock, sleeping in the kernel while another process holds it.
    pub fn lock(&self) -> io::Result<Held<'_, 'a>> {
        loop {
            // SAFETY: the semaphore was initialised before any process could attach to it (see
            // `create`), and `self` borrows the segment, so it stays mapped for the call.
            if unsafe { libc::sem_wait(self.sem()) } == 0 {
                return Ok(Held(self));
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

/// The lock, held until dropped. No `sem_destroy` ever: on Linux a semaphore holds nothing
/// beyond its bytes, which go with the mapping.
#[derive(Debug)]
pub struct Held<'l, 'a>(&'l SharedLock<'a>);

impl Drop for Held<'_, '_> {
    fn drop(&mut self) {
        // SAFETY: as in `lock`; this process holds the semaphore, so posting it releases it.
        unsafe { libc::sem_post(self.0.sem()) };
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    #[test]
    fn threads_adding_under_the_lock_lose_nothing() {
        let name = format!("/queue-ipc-{}-unit-lock", std::process::id());
        let mut segment = Segment::create(&name, 4096).unwrap();
        segment.unlink().unwrap();
        let lock = SharedLock::create(&segment, 128).unwrap();
        let counter = &segment.words()[0];
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        let _held = lock.lock().unwrap();
                        let value = counter.load(Ordering::Relaxed);
                        counter.store(value + 1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(counter.load(Ordering::Relaxed), 40_000);
    }

    #[test]
    #[should_panic(expected = "no room")]
    fn a_lock_past_the_end_is_refused() {
        let name = format!("/queue-ipc-{}-unit-lock-end", std::process::id());
        let segment = Segment::create(&name, 64).unwrap();
        SharedLock::attach(&segment, 64);
    }
}
