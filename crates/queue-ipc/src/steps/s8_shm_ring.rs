//! Step 8: step 2's stream through a ring of slots in shared memory: no copy through the kernel.
//!
//! Since step 7: the parent reads as the child writes. `head` (messages written, stored by the
//! writer only) and `tail` (read, by the reader only) give slot `n % slots` to the writer while
//! `n - tail < slots`, to the reader once `n < head`. A message a slot: they are all one size,
//! so none wraps around the end, as one would in a byte ring with length prefixes (split copies
//! or padding). A side with nothing to do waits on a [`Bell`].

#![allow(unsafe_code)] // slot bytes, through raw pointers into the mapping

// ANCHOR: pattern
use std::io::{self, BufReader};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use super::s2_pipe::{Frame, HEAD as STAMP, intact};
use super::s3_frame_buffers::decode;
use super::{Error, Streamed};
use crate::process::{ChildGuard, READY, WORKER_FLAG, Worker, monotonic_ns, read_ready};
use crate::shm::Segment;
use crate::shm_bell::Bell;

/// Bytes of slots a ring aims at: at least two (no message is larger than the ring), at most
/// 1024 (small ones stay in cache).
pub const RING_BYTES: usize = 8 << 20;
const MAX_SLOTS: usize = 1024;
// Words a cache line apart (so one side's stores do not evict the other's), then the bells.
const HEAD: usize = 0;
const TAIL: usize = 8;
const DATA_AT: usize = 128;
const SPACE_AT: usize = DATA_AT + Bell::SIZE;
const SLOTS_AT: usize = SPACE_AT + Bell::SIZE;

/// A ring of messages of `bytes` payload bytes in a segment every process maps alike.
#[derive(Debug, Clone, Copy)]
pub struct Ring<'a> {
    segment: &'a Segment,
    bytes: usize,
    slot: usize,
    slots: usize,
}

impl<'a> Ring<'a> {
    /// Slot size and count for `bytes`-byte messages, and the segment length they need.
    pub fn shape(bytes: usize) -> (usize, usize, usize) {
        let slot = (STAMP + bytes).next_multiple_of(64);
        let slots = (RING_BYTES / slot).clamp(2, MAX_SLOTS);
        (slot, slots, SLOTS_AT + slot * slots)
    }

    /// Sets up the bells: once, by the segment's creator, before a child starts.
    pub fn create(segment: &'a Segment, bytes: usize) -> io::Result<Self> {
        Bell::create(segment, DATA_AT)?;
        Bell::create(segment, SPACE_AT)?;
        Ok(Self::attach(segment, bytes))
    }

    /// The ring in `segment`, as another process sees it.
    pub fn attach(segment: &'a Segment, bytes: usize) -> Self {
        let (slot, slots, len) = Self::shape(bytes);
        assert!(segment.len() >= len, "the segment is too small");
        Self {
            segment,
            bytes,
            slot,
            slots,
        }
    }

    fn word(&self, index: usize) -> &AtomicU64 {
        &self.segment.words()[index]
    }

    fn slot(&self, n: u64) -> *mut u8 {
        let at = SLOTS_AT + (n as usize % self.slots) * self.slot;
        self.segment.as_ptr().wrapping_add(at)
    }

    /// The writer: waits for a free slot, builds message `seq` in it, and publishes it.
    pub fn send(&self, seq: u64, sent_ns: u64) -> io::Result<()> {
        let head = self.word(HEAD).load(Ordering::Relaxed); // only this side stores it
        // Acquire pairs with the reader's Release of `tail`: it is done with the slot we reuse.
        let free = || head - self.word(TAIL).load(Ordering::Acquire) < self.slots as u64;
        if !Bell::attach(self.segment, SPACE_AT).wait_until(free, || false)? {
            return Err(io::ErrorKind::BrokenPipe.into()); // the reader closed the ring
        }
        let at = self.slot(head);
        // SAFETY: `at` is 64-byte aligned, and its `STAMP + bytes` bytes lie in the mapping
        // (`attach` checked its length). `free` gave the slot to this side: the reader reads it
        // only after the Release below, and no reference into it exists.
        unsafe {
            at.cast::<u64>().write(seq.to_le());
            at.add(8).cast::<u64>().write(sent_ns.to_le());
            at.add(STAMP).write_bytes(seq as u8, self.bytes);
        }
        // Release publishes the slot: a reader whose Acquire sees `head + 1` sees its bytes.
        self.word(HEAD).store(head + 1, Ordering::Release);
        Bell::attach(self.segment, DATA_AT).ring()
    }

    /// The reader: waits for a message, `check`s it where it lies, frees its slot (`None`: over).
    pub fn receive<R>(
        &self,
        writer_gone: impl FnMut() -> bool,
        check: impl FnOnce(&Frame<'_>) -> R,
    ) -> io::Result<Option<R>> {
        let tail = self.word(TAIL).load(Ordering::Relaxed); // only this side stores it
        // Acquire pairs with the writer's Release of `head`: the slot's bytes are all there.
        let ready = || self.word(HEAD).load(Ordering::Acquire) > tail;
        if !Bell::attach(self.segment, DATA_AT).wait_until(ready, writer_gone)? {
            return Ok(None);
        }
        // SAFETY: as in `send`; `ready` gave the slot to this side until the Release below,
        // before which the slice is gone.
        let slot = unsafe { std::slice::from_raw_parts(self.slot(tail), STAMP + self.bytes) };
        let result = check(&decode(slot));
        self.word(TAIL).store(tail + 1, Ordering::Release); // Release: done with the slot
        Bell::attach(self.segment, SPACE_AT).ring()?;
        Ok(Some(result))
    }

    /// The reader stops: a writer waiting for space, now or later, fails instead of waiting.
    pub fn close(&self) -> io::Result<()> {
        Bell::attach(self.segment, SPACE_AT).close()
    }
}

/// Starts a child writing `messages` of `bytes` into a new ring, its stdin, once it attached.
pub fn start(worker: &Worker, messages: u64, bytes: usize) -> Result<(Segment, ChildGuard), Error> {
    let segment = Segment::create("queue-ipc-ring", Ring::shape(bytes).2)?;
    Ring::create(&segment, bytes)?;
    let mut command = Command::new(worker.path());
    let (count, size) = (messages.to_string(), bytes.to_string());
    command.args([WORKER_FLAG, "shm-ring", "--count", &count, "--bytes", &size]);
    let mut child = ChildGuard::spawn_with_stdin(&mut command, segment.for_child()?)?;
    read_ready(&mut BufReader::new(child.take_stdout()?))?;
    Ok((segment, child))
}

/// The whole step: a child that dies (looked for on an empty ring) gives a short count.
pub fn run(worker: &Worker, messages: u64, bytes: usize) -> Result<Streamed, Error> {
    let (segment, mut child) = start(worker, messages, bytes)?;
    let ring = Ring::attach(&segment, bytes);
    let mut received = 0;
    while received < messages {
        match ring.receive(|| child.has_exited(), |frame| intact(frame, received))? {
            Some(true) => received += 1,
            _ => break,
        }
    }
    ring.close()?; // before the wait: a child still writing fails, not waits for space
    let failure = child.failure()?;
    Ok(Streamed::new(messages, received, failure))
}

/// The child's side: attach to the ring on stdin, say ready, write.
pub fn child(messages: u64, bytes: usize) -> Result<(), Error> {
    let segment = Segment::inherited(Ring::shape(bytes).2)?;
    let ring = Ring::attach(&segment, bytes);
    println!("{READY}");
    for seq in 0..messages {
        ring.send(seq, monotonic_ns())?;
    }
    Ok(())
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_wrap_around_a_small_ring_whole_and_in_order() {
        // 1 MiB payloads: the ring has 7 slots, so 40 messages wrap around it five times.
        let bytes = 1 << 20;
        let segment = Segment::create("unit-ring", Ring::shape(bytes).2).unwrap();
        let ring = Ring::create(&segment, bytes).unwrap();
        assert_eq!(Ring::shape(bytes).1, 7);
        std::thread::scope(|s| {
            let writer = s.spawn(|| (0..40).try_for_each(|seq| ring.send(seq, seq + 1)));
            for seq in 0..40 {
                let got = ring.receive(|| false, |f| (intact(f, seq), f.sent_ns));
                assert_eq!(got.unwrap(), Some((true, seq + 1)));
            }
            writer.join().unwrap().unwrap();
        });
        // The writer is gone and the ring empty: no message, no wait.
        assert_eq!(ring.receive(|| true, |_| ()).unwrap(), None);
        // A closed ring refuses the writer once it is full, instead of waiting for ever.
        ring.close().unwrap();
        let sent = (40..60)
            .take_while(|&seq| ring.send(seq, 0).is_ok())
            .count();
        assert_eq!(sent, 7);
    }
}
