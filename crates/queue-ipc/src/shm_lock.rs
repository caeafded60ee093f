//! A lock that several processes can share and that survives its holder's death: a robust,
//! process-shared `pthread_mutex_t` placed in a shared-memory segment, beside a count of the
//! times it was taken over from a dead holder.
//!
//! Why not `std::sync::Mutex` in the segment: it waits on a *private* futex, which the kernel
//! keys by the waiter's address space, so a holder in another process would never wake it.
//! `PTHREAD_PROCESS_SHARED` asks for a mutex every process mapping it may use.
//!
//! Why not a semaphore of count 1 (`sem_t`, which Python's `multiprocessing.Lock` is): it has no
//! owner. A holder killed between `sem_wait` and `sem_post` leaves it taken, and every other
//! process waits for it forever. A *robust* mutex records its owner; when the owner dies holding
//! it, the kernel marks it, and the next `pthread_mutex_lock` returns `EOWNERDEAD` with the lock
//! taken. That taker must decide whether what the lock guards is whole (here: one word, written
//! by one store, so always), call `pthread_mutex_consistent`, and go on.

// `pthread_mutex_*` are C functions on a raw pointer into the mapping: this module and `shm` are
// where the lesson needs `unsafe`, and each block says why it is sound.
#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::shm::Segment;

// ANCHOR: lock
/// Bytes the mutex takes before its takeover count (a multiple of 8, so the count is aligned).
const MUTEX: usize = size_of::<libc::pthread_mutex_t>().next_multiple_of(8);

/// A lock in a segment, at a byte offset every process using it agrees on.
#[derive(Debug)]
pub struct SharedLock<'a> {
    segment: &'a Segment,
    at: usize,
}

impl<'a> SharedLock<'a> {
    /// Bytes the lock and its count take, rounded up to a cache line so nothing shares it.
    pub const SIZE: usize = (MUTEX + 8).next_multiple_of(64);

    /// Creates the lock `at` bytes into `segment`: once, by the segment's creator, before any
    /// other process or thread uses it.
    pub fn create(segment: &'a Segment, at: usize) -> io::Result<Self> {
        let lock = Self::attach(segment, at);
        let mut attr = MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        let attr = attr.as_mut_ptr();
        // SAFETY: `attr` points to local storage that `pthread_mutexattr_init` initialises
        // before the two setters and `pthread_mutex_init` read it; `attach` checked that a
        // `pthread_mutex_t` fits at `at` and is aligned there; nothing uses the mutex yet
        // (children start after this), so initialising it races with nothing.
        let status = unsafe {
            check(libc::pthread_mutexattr_init(attr))?;
            let shared = libc::pthread_mutexattr_setpshared(attr, libc::PTHREAD_PROCESS_SHARED);
            let robust = libc::pthread_mutexattr_setrobust(attr, libc::PTHREAD_MUTEX_ROBUST);
            let init = if shared == 0 && robust == 0 {
                libc::pthread_mutex_init(lock.mutex(), attr)
            } else {
                shared.max(robust)
            };
            libc::pthread_mutexattr_destroy(attr);
            init
        };
        check(status)?;
        Ok(lock)
    }

    /// The lock the creator made `at` bytes into `segment`, as another process that mapped it
    /// sees it.
    pub fn attach(segment: &'a Segment, at: usize) -> Self {
        let fits = at + Self::SIZE <= segment.len();
        let aligned = at.is_multiple_of(align_of::<libc::pthread_mutex_t>().max(8));
        assert!(fits && aligned, "no room at {at}");
        Self { segment, at }
    }

    fn mutex(&self) -> *mut libc::pthread_mutex_t {
        self.segment.as_ptr().wrapping_add(self.at).cast()
    }

    /// How many times a process found the previous holder dead and took the lock over.
    pub fn takeovers(&self) -> &AtomicU64 {
        let word = (self.at + MUTEX) / 8;
        &self.segment.words()[word]
    }

    /// Takes the lock, sleeping in the kernel while another process holds it. If its holder
    /// died holding it, takes it over: marks it consistent and counts the takeover.
    pub fn lock(&self) -> io::Result<Held<'_, 'a>> {
        // SAFETY: the mutex was initialised before any process could attach to it (see
        // `create`), and `self` borrows the segment, so it stays mapped for the call.
        match unsafe { libc::pthread_mutex_lock(self.mutex()) } {
            0 => {}
            libc::EOWNERDEAD => {
                // Under the lock, so no other taker counts at the same time; Relaxed: the
                // unlock publishes it, and the parent reads it after every child has exited.
                self.takeovers().fetch_add(1, Ordering::Relaxed);
                // SAFETY: as above, and this thread holds the mutex (EOWNERDEAD means taken).
                check(unsafe { libc::pthread_mutex_consistent(self.mutex()) })?;
            }
            err => return Err(io::Error::from_raw_os_error(err)),
        }
        Ok(Held(self))
    }
}

/// A pthread function's status as a `Result` (they return the error, not -1 and `errno`).
fn check(status: libc::c_int) -> io::Result<()> {
    match status {
        0 => Ok(()),
        err => Err(io::Error::from_raw_os_error(err)),
    }
}

/// The lock, held until dropped. No `pthread_mutex_destroy` ever: on Linux a mutex holds
/// nothing beyond its bytes, which go with the mapping.
#[derive(Debug)]
pub struct Held<'l, 'a>(&'l SharedLock<'a>);

impl Drop for Held<'_, '_> {
    fn drop(&mut self) {
        // SAFETY: as in `lock`; this thread holds the mutex, so unlocking it releases it.
        unsafe { libc::pthread_mutex_unlock(self.0.mutex()) };
    }
}
// ANCHOR_END: lock

#[cfg(test)]
mod tests {
    use super::*;

    fn segment() -> Segment {
        Segment::create("unit-lock", 4096).unwrap()
    }

    #[test]
    fn threads_adding_under_the_lock_lose_nothing() {
        let segment = segment();
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
    fn a_holder_that_ends_holding_the_lock_does_not_wedge_it() {
        let segment = segment();
        let lock = SharedLock::create(&segment, 128).unwrap();
        // A thread ending with the lock held is, to a robust mutex, what a process killed with
        // it held is: the kernel walks the dead thread's list of robust locks either way.
        std::thread::scope(|s| {
            s.spawn(|| std::mem::forget(lock.lock().unwrap()));
        });
        drop(lock.lock().unwrap());
        drop(lock.lock().unwrap());
        assert_eq!(lock.takeovers().load(Ordering::Relaxed), 1);
    }

    #[test]
    #[should_panic(expected = "no room")]
    fn a_lock_past_the_end_is_refused() {
        let segment = Segment::create("unit-lock-end", 64).unwrap();
        SharedLock::attach(&segment, 64);
    }
}
