//! A POSIX shared-memory segment: `shm_open` + `ftruncate`-like reservation + `mmap`, seen from
//! Rust only as a slice of atomics.
//!
//! Why not the `shared_memory` crate: it leaks the `/dev/shm` name when the owning process dies
//! and cannot prevent it, it is unmaintained (it pulls in an old second `nix` and `rand`), and its
//! handle is `!Send`. These few lines do more: the owner [`unlink`](Segment::unlink)s the name
//! as soon as every child has attached. Mappings outlive the name (like an open file after `rm`),
//! so from then on nothing can leak, not even on `kill -9` of every process involved: the kernel
//! frees the memory when the last mapping goes.
//!
//! Why atomics and not `&mut [u64]`: another process may write the memory at any time, and the
//! compiler assumes that nothing changes behind a `&[u64]` (it may cache, merge or drop reads).
//! `AtomicU64` tells it otherwise; with `Relaxed` ordering a load or store compiles to the same
//! single `mov` as a plain one on x86-64, so the safety costs nothing.

// `MmapMut::map_mut` and viewing the mapping as atomics are `unsafe`: this module is the one
// place the lesson needs it, and each block says why it is sound.
#![allow(unsafe_code)]

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use memmap2::{MmapMut, MmapOptions};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::Mode;

use crate::LESSON;

/// Names created by this process and not yet unlinked, for the Ctrl-C handler to remove.
static NAMES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// What can go wrong with a segment; each names the segment and says what failed.
#[derive(Debug, thiserror::Error)]
pub enum ShmError {
    /// `shm_open` failed (the name exists already, or `/dev/shm` is not writable).
    #[error("shm_open {0}: {1}")]
    Open(String, Errno),
    /// The memory (name, bytes) could not be reserved: `/dev/shm`, a tmpfs, is too small.
    #[error("reserving {1} bytes for {0} in /dev/shm: {2}")]
    Reserve(String, usize, Errno),
    /// The segment (name, bytes needed, bytes it has) is smaller than the caller expects.
    #[error("{0} holds {2} bytes, expected at least {1}")]
    TooSmall(String, usize, u64),
    /// `mmap` failed.
    #[error("mapping {0}: {1}")]
    Map(String, std::io::Error),
}

/// A mapped shared-memory segment.
#[derive(Debug)]
pub struct Segment {
    /// The name under `/dev/shm`, with its leading slash: `/queue-ipc-<pid>-...`.
    name: String,
    /// The mapping. Never read as bytes: only through [`Segment::words`].
    map: MmapMut,
    /// Whether this process must still unlink the name (the owner, until it has).
    must_unlink: bool,
}

impl Segment {
    /// Creates segment `name` of `len` bytes (zeroed) and maps it. The creator owns the name:
    /// it is unlinked by [`unlink`](Segment::unlink) or, at the latest, on drop.
    pub fn create(name: &str, len: usize) -> Result<Self, ShmError> {
        let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR;
        // The name is created and registered under one lock: the interrupt handler, which
        // unlinks every registered name before exiting, cannot run between the two and miss it.
        let fd = {
            let mut registered = names();
            let mode = Mode::S_IRUSR | Mode::S_IWUSR;
            let fd = shm_open(name, flags, mode).map_err(|e| ShmError::Open(name.into(), e))?;
            registered.push(name.to_string());
            fd
        };
        let unlink_on_error = |err| {
            let _ = shm_unlink(name);
            names().retain(|n| n != name);
            err
        };
        // posix_fallocate, not ftruncate: it reserves the pages now, so a full /dev/shm is an
        // error here instead of a SIGBUS on the first write to a page tmpfs cannot supply.
        let size = libc::off_t::try_from(len).expect("a segment's size fits in off_t");
        nix::fcntl::posix_fallocate(&fd, 0, size)
            .map_err(|e| unlink_on_error(ShmError::Reserve(name.into(), len, e)))?;
        let map = map(name, &File::from(fd), len).map_err(unlink_on_error)?;
        Ok(Self {
            name: name.into(),
            map,
            must_unlink: true,
        })
    }

    /// Attaches to the existing segment `name`, which must hold at least `len` bytes.
    pub fn open(name: &str, len: usize) -> Result<Self, ShmError> {
        let fd = shm_open(name, OFlag::O_RDWR, Mode::empty())
            .map_err(|e| ShmError::Open(name.into(), e))?;
        let file = File::from(fd);
        let actual = file.metadata().map_or(0, |m| m.len());
        if actual < len as u64 {
            return Err(ShmError::TooSmall(name.into(), len, actual));
        }
        let map = map(name, &file, len)?;
        Ok(Self {
            name: name.into(),
            map,
            must_unlink: false,
        })
    }

    /// Removes the name from `/dev/shm`; the memory lives on for every process that mapped it.
    /// Call it as soon as every child has attached. Doing it again does nothing.
    pub fn unlink(&mut self) -> Result<(), Errno> {
        if self.must_unlink {
            shm_unlink(self.name.as_str())?;
            self.must_unlink = false;
            names().retain(|n| n != &self.name);
        }
        Ok(())
    }

    /// The segment's name, as children pass it to [`Segment::open`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The first byte of the mapping, for what is shared but is not a word (step 5's
    /// semaphore). The pointer comes from `mmap` itself, not from a reference, so writing
    /// through it is allowed; what may be written where is the caller's to prove.
    pub fn as_ptr(&self) -> *mut u8 {
        self.map.as_ptr().cast_mut()
    }

    /// The segment as 64-bit words, shared with every process that mapped it.
    pub fn words(&self) -> &[AtomicU64] {
        // SAFETY: the mapping is page-aligned, so aligned for AtomicU64, and `len / 8` words fit
        // in it. AtomicU64 has the size and alignment of u64 and may be written through a shared
        // reference, by this process or another, which is exactly the situation. The slice
        // borrows `self`, so it cannot outlive the mapping, and no `&[u8]` or `&mut [u8]` view of
        // the same memory is ever created.
        unsafe {
            std::slice::from_raw_parts(self.map.as_ptr().cast::<AtomicU64>(), self.map.len() / 8)
        }
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        let _ = self.unlink();
    }
}

/// Maps `len` bytes of `file` shared and read-write, with every page mapped up front
/// (`MAP_POPULATE`), so that the timed loops measure memory, not page faults.
fn map(name: &str, file: &File, len: usize) -> Result<MmapMut, ShmError> {
    // SAFETY: memmap2 asks that nobody truncate the file while it is mapped (accesses past the
    // end would SIGBUS): a segment is never resized after `create`, and `open` checked the size.
    // Its other caveat, that another process may change the contents, is the point here and is
    // why the memory is only ever accessed as atomics (or, step 5's semaphore, by `sem_*`).
    unsafe { MmapOptions::new().len(len).populate().map_mut(file) }
        .map_err(|e| ShmError::Map(name.into(), e))
}

/// A fresh segment name with the parent's pid in it, `/queue-ipc-<pid>-<what>-<n>`, so that two
/// runs never collide and a leak can be traced to its run.
pub fn segment_name(what: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // Relaxed: only uniqueness matters, and fetch_add gives every caller a different number.
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("/{LESSON}-{}-{what}-{n}", std::process::id())
}

/// Unlinks every segment this process created and has not yet unlinked: the Ctrl-C handler runs
/// it (`reaper::on_interrupt`) once every child is reaped, since the handler exits without
/// unwinding and so without any `Segment`'s `Drop`.
pub fn unlink_all_registered() {
    for name in names().drain(..) {
        let _ = shm_unlink(name.as_str());
    }
}

/// A `Vec` only pushed to and filtered stays valid if a holder panicked: ignore poisoning.
fn names() -> std::sync::MutexGuard<'static, Vec<String>> {
    NAMES.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_carry_the_pid_and_never_repeat() {
        let (a, b) = (segment_name("x"), segment_name("x"));
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("/queue-ipc-{}-x-", std::process::id())));
    }

    fn on_disk(name: &str) -> bool {
        std::path::Path::new("/dev/shm")
            .join(name.trim_start_matches('/'))
            .exists()
    }

    #[test]
    fn a_second_mapping_sees_the_first_ones_writes_after_unlink() {
        let name = format!("/queue-ipc-{}-unit-share", std::process::id());
        let mut owner = Segment::create(&name, 4096).unwrap();
        let guest = Segment::open(&name, 4096).unwrap();
        owner.unlink().unwrap();
        assert!(!on_disk(&name));
        owner.words()[3].store(42, Ordering::Relaxed);
        assert_eq!(guest.words()[3].load(Ordering::Relaxed), 42);
        assert_eq!(guest.words().len(), 512);
    }

    #[test]
    fn dropping_the_owner_removes_the_name() {
        let name = format!("/queue-ipc-{}-unit-drop", std::process::id());
        drop(Segment::create(&name, 64).unwrap());
        assert!(!on_disk(&name));
        assert!(matches!(Segment::open(&name, 64), Err(ShmError::Open(..))));
    }

    #[test]
    fn attaching_to_a_too_small_segment_is_an_error() {
        let name = format!("/queue-ipc-{}-unit-small", std::process::id());
        let _owner = Segment::create(&name, 64).unwrap();
        assert!(matches!(
            Segment::open(&name, 1 << 20),
            Err(ShmError::TooSmall(..))
        ));
    }
}
