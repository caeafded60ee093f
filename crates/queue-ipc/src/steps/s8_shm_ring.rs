//! Step 8: step 2's stream through a ring of slots in shared memory: no copy through the kernel.
//!
//! Since step 7: the parent reads as the child writes. `head` (written, stored by the writer
//! only) and `tail` (read, by the reader only) give slot `n % slots` to the writer while `n -
//! tail < slots`, to the reader once `n < head`. A slot holds a message of any size, whole: none
//! is split at the end, as a byte ring with length prefixes splits some. Waits: on a [`Bell`].

#![allow(unsafe_code)] // slot bytes, through raw pointers into the mapping

// ANCHOR: pattern
use std::io::{self, BufReader};
use std::process::Command;
use std::sync::atomic::Ordering;

use super::s2_pipe::{Frame, HEAD as STAMP};
use super::s3_frame_buffers::decode;
use super::s4_tuned_pipe::filled_with;
use super::{Error, Streamed};
use crate::process::{ChildGuard, READY, WORKER_FLAG, Worker, monotonic_ns, read_ready};
use crate::shm::Segment;
use crate::shm_bell::Bell;

/// Bytes of slots a ring aims at (it stays in cache), in at least 4 slots and at most 1024.
pub const RING_BYTES: usize = 1 << 20;
// Words a cache line apart (so one side's stores do not evict the other's), then the bells.
const HEAD: usize = 0;
const TAIL: usize = 8;
const DATA_AT: usize = 128;
const SPACE_AT: usize = DATA_AT + Bell::SIZE;
const SLOTS_AT: usize = SPACE_AT + Bell::SIZE;

/// One side of a ring of `bytes`-byte messages in a segment every process maps alike.
#[derive(Debug)]
pub struct Ring<'a> {
    segment: &'a Segment,
    bytes: usize,
    slot: usize,
    slots: u64,
    /// The other side's counter as last read: each read pulls a cache line from the other CPU.
    seen: std::cell::Cell<u64>,
}

impl<'a> Ring<'a> {
    /// Slot size and count for `bytes`-byte messages, and the segment length they need.
    pub fn shape(bytes: usize) -> (usize, usize, usize) {
        let slot = (STAMP + bytes).next_multiple_of(64);
        let slots = (RING_BYTES / slot).clamp(4, 1024);
        (slot, slots, SLOTS_AT + slot * slots)
    }

    /// Sets up the bells: once, by the segment's creator, before a child starts.
    pub fn create(segment: &'a Segment, bytes: usize) -> io::Result<Self> {
        Bell::create(segment, DATA_AT)?;
        Bell::create(segment, SPACE_AT)?;
        Ok(Self::attach(segment, bytes))
    }

    /// One side of the ring in `segment`.
    pub fn attach(segment: &'a Segment, bytes: usize) -> Self {
        let (slot, slots, len) = Self::shape(bytes);
        assert!(segment.len() >= len, "the segment is too small");
        Self {
            segment,
            bytes,
            slot,
            slots: slots as u64,
            seen: std::cell::Cell::new(0),
        }
    }

    fn slot(&self, n: u64) -> *mut u8 {
        let at = SLOTS_AT + (n % self.slots) as usize * self.slot;
        self.segment.as_ptr().wrapping_add(at)
    }

    /// The other side's counter, read afresh. Acquire pairs with its Release: after `head`, the
    /// slots' bytes are there; after `tail`, the reader is done with the slots to reuse.
    fn reread(&self, counter: usize) -> u64 {
        self.seen
            .set(self.segment.words()[counter].load(Ordering::Acquire));
        self.seen.get()
    }

    /// The writer: waits for a free slot, builds message `seq` in it, and publishes it.
    pub fn send(&self, seq: u64, sent_ns: u64) -> io::Result<()> {
        let head = self.segment.words()[HEAD].load(Ordering::Relaxed); // only we store it
        let free = || head - self.reread(TAIL) < self.slots;
        let space = Bell::attach(self.segment, SPACE_AT);
        if head - self.seen.get() >= self.slots && !space.wait_until(free, || false)? {
            return Err(io::ErrorKind::BrokenPipe.into()); // the reader closed the ring
        }
        let at = self.slot(head);
        // SAFETY: `at` is 64-byte aligned and its `STAMP + bytes` bytes are mapped (`attach`); the
        // slot is ours (`free`) until the Release below, and no reference into it exists.
        unsafe {
            at.cast::<u64>().write(seq.to_le());
            at.add(8).cast::<u64>().write(sent_ns.to_le());
            at.add(STAMP).write_bytes(seq as u8, self.bytes);
        }
        self.segment.words()[HEAD].store(head + 1, Ordering::Release); // publishes the slot
        Bell::attach(self.segment, DATA_AT).ring()
    }

    /// The reader: waits for a message, `check`s it where it lies, frees its slot (`None`: over).
    pub fn receive<R>(
        &self,
        writer_gone: impl FnMut() -> bool,
        check: impl FnOnce(&Frame<'_>) -> R,
    ) -> io::Result<Option<R>> {
        let tail = self.segment.words()[TAIL].load(Ordering::Relaxed); // only we store it
        let ready = || self.reread(HEAD) > tail;
        let data = Bell::attach(self.segment, DATA_AT);
        if self.seen.get() <= tail && !data.wait_until(ready, writer_gone)? {
            return Ok(None);
        }
        // SAFETY: as in `send`; the slot is ours (`ready`) and the slice gone before the Release.
        let slot = unsafe { std::slice::from_raw_parts(self.slot(tail), STAMP + self.bytes) };
        let result = check(&decode(slot));
        self.segment.words()[TAIL].store(tail + 1, Ordering::Release); // done with the slot
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
        let intact = |f: &Frame<'_>| f.seq == received && filled_with(f.payload, received as u8);
        match ring.receive(|| child.has_exited(), intact)? {
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
    Ok((0..messages).try_for_each(|seq| ring.send(seq, monotonic_ns()))?)
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_wrap_around_a_small_ring_whole_and_in_order() {
        // 1 MiB payloads: the ring has 4 slots, so 40 messages wrap around it ten times.
        let bytes = 1 << 20;
        let segment = Segment::create("unit-ring", Ring::shape(bytes).2).unwrap();
        let reader = Ring::create(&segment, bytes).unwrap();
        let writer = Ring::attach(&segment, bytes);
        assert_eq!(Ring::shape(bytes).1, 4);
        std::thread::scope(|s| {
            let writing = s.spawn(move || (0..40).try_for_each(|seq| writer.send(seq, seq + 1)));
            for seq in 0..40 {
                let intact = |f: &Frame<'_>| f.seq == seq && filled_with(f.payload, seq as u8);
                let got = reader.receive(|| false, |f| (intact(f), f.sent_ns));
                assert_eq!(got.unwrap(), Some((true, seq + 1)));
            }
            writing.join().unwrap().unwrap();
        });
        // The writer is gone and the ring empty: no message, no wait.
        assert_eq!(reader.receive(|| true, |_| ()).unwrap(), None);
        // A closed ring refuses the writer once it is full, instead of waiting for ever.
        reader.close().unwrap();
        let writer = Ring::attach(&segment, bytes);
        let sent = (40..60)
            .take_while(|&seq| writer.send(seq, 0).is_ok())
            .count();
        assert_eq!(sent, 4);
    }
}
