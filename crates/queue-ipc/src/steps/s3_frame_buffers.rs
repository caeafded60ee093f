//! Step 3: step 2's frames built and decoded in place in one buffer per end, which buys a lower
//! cost per small frame (figures in `docs/results.md`).
//!
//! Since step 2: once the system calls are batched, the per-frame work limits the rate of small
//! frames. So each end keeps its own 64 KiB buffer instead of a `BufWriter`/`BufReader`. The
//! writer builds each frame in place in it, where a `BufWriter` takes four `write_all` calls
//! and a copy of a separately filled payload. The reader hands out each frame as a slice of its
//! buffer, where `read_exact` copies it once more; only a partial frame at the end is moved to
//! the front before a `read`. The bytes on the wire are step 2's, frame for frame.

// ANCHOR: pattern
use std::io::{self, Read, Write};

use super::s2_pipe::{BUFFER, Frame, HEAD};

/// Bytes of the length prefix.
pub const PREFIX: usize = 4;

/// The writing end: frames are built in `buf` and leave in one `write` per full buffer.
#[derive(Debug)]
pub struct FrameWriter<W: Write> {
    /// `buf[..used]` are frames not yet written: a fixed slice and a cursor, not a `Vec` pushed
    /// to, so a frame is plain copies into place with no capacity bookkeeping.
    buf: Vec<u8>,
    used: usize,
    out: W,
}

impl<W: Write> FrameWriter<W> {
    /// A writer with a [`BUFFER`]-byte buffer over `out`.
    pub fn new(out: W) -> Self {
        let (buf, used) = (vec![0; BUFFER], 0);
        Self { buf, used, out }
    }

    /// Appends one frame whose payload is `len` copies of `byte`, written straight into place.
    pub fn frame_filled(&mut self, seq: u64, sent_ns: u64, len: usize, byte: u8) -> io::Result<()> {
        let body = u32::try_from(HEAD + len).map_err(|_| io::Error::other("frame over 4 GiB"))?;
        let frame = PREFIX + HEAD + len;
        if self.buf.len() - self.used < frame {
            self.flush_buffer()?;
            if self.buf.len() < frame {
                // A frame larger than the buffer grows it once to fit; it never grows again.
                self.buf.resize(frame, 0);
            }
        }
        let at = self.used;
        self.buf[at..at + 4].copy_from_slice(&body.to_le_bytes());
        self.buf[at + 4..at + 12].copy_from_slice(&seq.to_le_bytes());
        self.buf[at + 12..at + 20].copy_from_slice(&sent_ns.to_le_bytes());
        self.buf[at + 20..at + frame].fill(byte);
        self.used = at + frame;
        Ok(())
    }

    /// Writes out every buffered frame and flushes the pipe.
    pub fn flush(&mut self) -> io::Result<()> {
        self.flush_buffer()?;
        self.out.flush()
    }

    fn flush_buffer(&mut self) -> io::Result<()> {
        if self.used > 0 {
            self.out.write_all(&self.buf[..self.used])?;
            self.used = 0;
        }
        Ok(())
    }
}

/// The reading end: reads as much as the pipe holds, up to the free space in `buf`, and decodes
/// frames where they lie.
#[derive(Debug)]
pub struct FrameReader<R: Read> {
    /// Bytes read; `buf[start..end]` are not yet decoded.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The largest body accepted: a longer length prefix means a corrupt stream, and is refused
    /// before anything is allocated for it.
    max_body: usize,
    input: R,
}

impl<R: Read> FrameReader<R> {
    /// A reader over `input` that accepts bodies of at most `max_body` bytes.
    pub fn new(input: R, max_body: usize) -> Self {
        let buf = vec![0; BUFFER.max(PREFIX + max_body)];
        Self {
            buf,
            start: 0,
            end: 0,
            max_body,
            input,
        }
    }

    /// The next frame, or `None` at end of file (a frame cut short counts as end of file too).
    pub fn next_frame(&mut self) -> io::Result<Option<Frame<'_>>> {
        if self.end - self.start < PREFIX && !self.fill(PREFIX)? {
            return Ok(None);
        }
        let at = self.start;
        let len = u32::from_le_bytes(self.buf[at..at + PREFIX].try_into().expect("4 bytes"));
        let len = len as usize;
        if !(HEAD..=self.max_body).contains(&len) {
            let err = format!("a frame of {len} bytes, outside {HEAD}..={}", self.max_body);
            return Err(io::Error::new(io::ErrorKind::InvalidData, err));
        }
        if self.end - self.start < PREFIX + len && !self.fill(PREFIX + len)? {
            return Ok(None);
        }
        // Filling may have moved the frame to the front of the buffer.
        let at = self.start;
        let body = &self.buf[at + PREFIX..at + PREFIX + len];
        self.start = at + PREFIX + len;
        Ok(Some(decode(body)))
    }

    /// Reads until `need` undecoded bytes are buffered; false if the stream ends first. Called
    /// per refill, not per frame (callers check first), so it stays out of the per-frame path.
    #[cold]
    #[inline(never)]
    fn fill(&mut self, need: usize) -> io::Result<bool> {
        while self.end - self.start < need {
            if self.start == self.end {
                // Everything decoded: start over at the front for free, so the read is large.
                (self.start, self.end) = (0, 0);
            } else if self.buf.len() - self.start < need || self.start >= self.buf.len() / 2 {
                // The frame would run past the end, or half the buffer is spent: move the rest
                // (one partial frame at most) to the front, so the next read is not a small one.
                self.buf.copy_within(self.start..self.end, 0);
                (self.start, self.end) = (0, self.end - self.start);
            }
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => self.end += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(true)
    }
}
/// A frame's body, `[seq: u64][sent_ns: u64][payload]` (at least [`HEAD`] bytes), decoded
/// where it lies: the payload is a slice of `body`, not a copy.
pub fn decode(body: &[u8]) -> Frame<'_> {
    let word = |i: usize| u64::from_le_bytes(body[i..i + 8].try_into().expect("8 bytes"));
    let (seq, sent_ns, payload) = (word(0), word(8), &body[HEAD..]);
    Frame {
        seq,
        sent_ns,
        payload,
    }
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use std::io::BufReader;

    use super::*;
    use crate::steps::s2_pipe::{Flush, Frames, write_frames};

    fn wire(frames: &[(u64, u64, usize, u8)]) -> Vec<u8> {
        let mut writer = FrameWriter::new(Vec::new());
        for &(seq, sent, len, byte) in frames {
            writer.frame_filled(seq, sent, len, byte).unwrap();
        }
        writer.flush().unwrap();
        writer.out
    }

    #[test]
    fn the_bytes_on_the_wire_are_step_2s() {
        let mut plain = Vec::new();
        write_frames(&mut plain, 2, 3, Flush::WhenFull).unwrap();
        let tuned = wire(&[(0, 0, 3, 0), (1, 0, 3, 1)]);
        let mut a = Frames::new(BufReader::new(&plain[..]), 3);
        let mut b = FrameReader::new(&tuned[..], HEAD + 3);
        for _ in 0..2 {
            let (x, y) = (
                a.next_frame().unwrap().unwrap(),
                b.next_frame().unwrap().unwrap(),
            );
            assert_eq!((x.seq, x.payload), (y.seq, y.payload));
        }
        assert_eq!(plain.len(), tuned.len());
    }

    #[test]
    fn frames_across_buffer_boundaries_and_larger_than_the_buffer_arrive_whole() {
        // 1000-byte payloads do not divide 64 KiB, so frames straddle refills; the last frame is
        // twice the buffer and grows both ends once.
        let mut frames: Vec<_> = (0..200).map(|i| (i, i + 1, 1000, i as u8)).collect();
        frames.push((200, 201, 2 * BUFFER, 7));
        let bytes = wire(&frames);
        let mut reader = FrameReader::new(&bytes[..], HEAD + 2 * BUFFER);
        for &(seq, sent, len, byte) in &frames {
            let frame = reader.next_frame().unwrap().unwrap();
            let got = (frame.seq, frame.sent_ns, frame.payload.len());
            assert_eq!(got, (seq, sent, len));
            assert!(frame.payload.iter().all(|&b| b == byte));
        }
        assert_eq!(reader.next_frame().unwrap(), None);
        // Cut inside the last frame: end of file, not an error.
        let mut cut = FrameReader::new(&bytes[..bytes.len() - 3], HEAD + 2 * BUFFER);
        let whole = std::iter::from_fn(|| cut.next_frame().unwrap().map(|_| ())).count();
        assert_eq!(whole, 200);
    }

    #[test]
    fn a_length_outside_the_accepted_range_is_refused() {
        let bytes = wire(&[(1, 1, 100, 1)]);
        for (wire, max_body) in [(&bytes[..], HEAD + 99), (&[3u8, 0, 0, 0][..], 64)] {
            let err = FrameReader::new(wire, max_body).next_frame().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        }
    }
}
