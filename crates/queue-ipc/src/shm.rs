//! A shared-memory segment that never has a name: a file in `/dev/shm` opened with `O_TMPFILE`
//! (nameless from birth), reserved with `posix_fallocate`, mapped with `mmap`, handed to each
//! re-executed child as its stdin, and seen from Rust only as atomics.
//!
//! Why no name: a segment made with `shm_open` lives in `/dev/shm` until someone calls
//! `shm_unlink`, so a `kill -9` between the two leaves it there, holding its memory, for good.
//! That window is not a moment: it spans the reservation, the children's start and their
//! attaching. (The `shared_memory` crate has the same hole and no way to close it; it is also
//! unmaintained and its handle is `!Send`.) An `O_TMPFILE` file has no path anyone could leave
//! behind (`O_EXCL` also forbids linking it in later): it is memory reached only through
//! descriptors and mappings, and the kernel frees it when the last of them goes, however each
//! process ends. Python's `multiprocessing` does the nearest thing portable code can: it creates
//! a file in `/dev/shm`, unlinks it at once, and passes the descriptor to its children.
//! `memfd_create` would do as well, but its memory is not counted against `/dev/shm`'s size, so
//! an oversized array would meet the OOM killer instead of a clean "no space" error.
//!
//! Why stdin: `Command` can place one of our descriptors in a child as its stdin without
//! `unsafe`; any other descriptor number needs close-on-exec cleared in a `pre_exec` hook, or
//! left clear in the parent, where every child started meanwhile would inherit it.
//!
//! Why atomics and not `&mut [u64]`: another process may write the memory at any time, and the
//! compiler assumes that nothing changes behind a `&[u64]` (it may cache, merge or drop reads).
//! `AtomicU64` tells it otherwise; with `Relaxed` ordering a load or store compiles to the same
//! single `mov` as a plain one on x86-64, so the safety costs nothing.

// Viewing the mapping as atomics is `unsafe`: this module is one of the places the lesson needs
// it, and each block says why it is sound.
#![allow(unsafe_code)]

// ANCHOR: segment
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsFd as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::process::Stdio;
use std::sync::atomic::AtomicU64;

use memmap2::{MmapOptions, MmapRaw};
use nix::errno::Errno;

/// Where segments are made: the tmpfs meant for shared memory, so its size limit applies.
pub const DIR: &str = "/dev/shm";

/// What can go wrong with a segment; each names the segment and says what failed.
#[derive(Debug, thiserror::Error)]
pub enum ShmError {
    /// The file could not be made (`/dev/shm` missing, not writable, or no `O_TMPFILE`).
    #[error("creating {0} in {DIR}: {1}")]
    Create(String, io::Error),
    /// The memory (label, bytes) could not be reserved: `/dev/shm`, a tmpfs, is too small.
    #[error("reserving {1} bytes for {0} in {DIR}: {2}")]
    Reserve(String, usize, Errno),
    /// The child's stdin (the segment) could not be duplicated.
    #[error("the segment on stdin: {0}")]
    Inherit(io::Error),
    /// The segment (label, bytes needed, bytes it has) is smaller than the caller expects.
    #[error("{0} holds {2} bytes, expected at least {1}")]
    TooSmall(String, usize, u64),
    /// `mmap` failed.
    #[error("mapping {0}: {1}")]
    Map(String, io::Error),
}

/// A mapped shared-memory segment, and the descriptor that lets a child map it too.
#[derive(Debug)]
pub struct Segment {
    /// The memory file; closed on drop, after which only the mapping keeps the memory.
    file: File,
    /// The mapping. `MmapRaw`, not `MmapMut`: it hands out raw pointers only, never a `&[u8]`
    /// or `&mut [u8]` that other processes' writes would make a lie.
    map: MmapRaw,
}

impl Segment {
    /// Creates a segment of `len` zeroed bytes and maps it. `label` names it in errors only: the
    /// segment itself has no name (`/proc/<pid>/fd` shows `/dev/shm/#<inode> (deleted)`).
    pub fn create(label: &str, len: usize) -> Result<Self, ShmError> {
        // std opens it close-on-exec: a child gets the segment only where `for_child` puts it.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_TMPFILE | libc::O_EXCL)
            .mode(0o600)
            .open(DIR)
            .map_err(|e| ShmError::Create(label.into(), e))?;
        // posix_fallocate, not ftruncate: it reserves the pages now, so a shortage is an error
        // here instead of a SIGBUS on the first write to a page that cannot be supplied.
        let size = libc::off_t::try_from(len).map_err(|_| {
            ShmError::Reserve(label.into(), len, Errno::EFBIG) // over 8 EiB: never a real size
        })?;
        nix::fcntl::posix_fallocate(&file, 0, size)
            .map_err(|e| ShmError::Reserve(label.into(), len, e))?;
        Self::attach(label, file, len)
    }

    /// The segment as a child's stdin: a duplicate of the descriptor, which `Command` places on
    /// fd 0 in the child and closes in the parent once the child has started.
    pub fn for_child(&self) -> io::Result<Stdio> {
        Ok(Stdio::from(self.file.try_clone()?))
    }

    /// In a child started with [`for_child`](Segment::for_child): maps the segment on stdin,
    /// which must hold at least `len` bytes.
    pub fn inherited(len: usize) -> Result<Self, ShmError> {
        let fd = io::stdin().as_fd().try_clone_to_owned();
        Self::attach(
            "the segment on stdin",
            File::from(fd.map_err(ShmError::Inherit)?),
            len,
        )
    }

    /// Maps the first `len` bytes of memory file `file`, which must hold at least that many.
    pub fn attach(label: &str, file: File, len: usize) -> Result<Self, ShmError> {
        let actual = file.metadata().map_or(0, |m| m.len());
        if actual < len as u64 {
            return Err(ShmError::TooSmall(label.into(), len, actual));
        }
        // Every page mapped up front (`MAP_POPULATE`), so the timed loops measure memory, not
        // page faults. Safe to call: `MmapRaw` gives out pointers, and what is done through them
        // is the `unsafe` part. Nobody truncates the file, so no access past its end can SIGBUS.
        let map = MmapOptions::new().len(len).populate().map_raw(&file);
        let map = map.map_err(|e| ShmError::Map(label.into(), e))?;
        Ok(Self { file, map })
    }

    /// The first byte of the mapping, for what is shared but is not a word (step 5's lock and
    /// starting gun). It comes from `mmap` itself, not from a reference, so writing through it
    /// is allowed; what may be written where is the caller's to prove.
    pub fn as_ptr(&self) -> *mut u8 {
        self.map.as_mut_ptr()
    }

    /// The segment's length in bytes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the segment holds no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// The segment as 64-bit words, shared with every process that mapped it.
    pub fn words(&self) -> &[AtomicU64] {
        // SAFETY: the pointer comes from `mmap` (no reference to the bytes exists anywhere:
        // `MmapRaw` makes none), the mapping is page-aligned, so aligned for AtomicU64, and
        // `len / 8` words fit in it. AtomicU64 has the size of u64 and may be written through a
        // shared reference, by this process or another, which is exactly the situation. The
        // slice borrows `self`, so it cannot outlive the mapping.
        unsafe { std::slice::from_raw_parts(self.as_ptr().cast::<AtomicU64>(), self.len() / 8) }
    }
}
// ANCHOR_END: segment

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    #[test]
    fn a_second_mapping_of_the_descriptor_sees_the_first_ones_writes() {
        let owner = Segment::create("unit-share", 4096).unwrap();
        let guest = Segment::attach("guest", owner.file.try_clone().unwrap(), 4096).unwrap();
        owner.words()[3].store(42, Ordering::Relaxed);
        assert_eq!(guest.words()[3].load(Ordering::Relaxed), 42);
        assert_eq!(guest.words().len(), 512);
    }

    #[test]
    fn a_segment_has_no_name_anywhere() {
        let segment = Segment::create("unit-nameless", 64).unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&segment.file);
        let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
        let target = target.to_str().unwrap();
        assert!(target.starts_with("/dev/shm/#"), "{target}");
        assert!(target.ends_with(" (deleted)"), "{target}");
    }

    #[test]
    fn attaching_to_a_too_small_segment_is_an_error() {
        let owner = Segment::create("unit-small", 64).unwrap();
        let file = owner.file.try_clone().unwrap();
        let err = Segment::attach("guest", file, 1 << 20).unwrap_err();
        assert!(matches!(err, ShmError::TooSmall(..)), "{err}");
    }
}
