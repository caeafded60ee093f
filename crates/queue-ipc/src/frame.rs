//! Length-prefixed frames over a byte stream, encoded and decoded in place in one buffer per end.
//!
//! A pipe carries bytes, not messages, so each message is a frame: a 4-byte little-endian
//! length, then the body (sequence number, send time, payload). Both ends keep their own 64 KiB
//! buffer rather than wrapping the pipe in `BufWriter`/`BufReader`, because with frames of a few
//! dozen bytes the per-frame work, not the system calls, is what limits the rate:
//!
//! - The writer builds each frame directly in its buffer, head and payload filled in place;
//!   through a `BufWriter` the same frame costs four `write_all` calls plus a `fill` of a
//!   separate payload that is then copied. The buffer leaves in one `write` when full.
//! - The reader hands out each frame as a slice of its buffer, never copied after the `read`
//!   that brought it in; `BufReader::read_exact` into a `Vec` body copies every frame once more.
//!   Only the undecoded tail (a partial frame) is moved to the front before a `read`.

use std::io::{self, Read, Write};

/// Bytes of the length prefix.
pub const PREFIX: usize = 4;
/// Bytes of a body before its payload: sequence number and send time.
pub const BODY_HEAD: usize = 16;
/// Buffer size at both ends: hundreds of small frames per system call.
pub const BUFFER: usize = 64 * 1024;

/// One decoded frame, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The sender's sequence number.
    pub seq: u64,
    /// The sender's `CLOCK_MONOTONIC` time, or 0 where the sender did not stamp the frame.
    pub sent_ns: u64,
    /// The payload bytes.
    pub payload: &'a [u8],
}

/// The writing end: frames are built in `buf` and leave in one `write` per full buffer.
#[derive(Debug)]
pub struct FrameWriter<W: Write> {
    /// A fixed-size buffer (grown once if a single frame is larger); `buf[..used]` are frames not
    /// yet written. A fixed slice with a cursor, not a `Vec` pushed to, so a frame is two plain
    /// copies into place with no capacity bookkeeping per call.
    buf: Vec<u8>,
    /// Bytes of `buf` holding frames.
    used: usize,
    /// The pipe.
    out: W,
}

impl<W: Write> FrameWriter<W> {
    /// A writer with a [`BUFFER`]-byte buffer over `out`.
    pub fn new(out: W) -> Self {
        Self {
            buf: vec![0; BUFFER],
            used: 0,
            out,
        }
    }

    /// Appends one frame whose payload is `len` copies of `byte` (the lesson's checkable
    /// payload), written straight into the buffer.
    pub fn frame_filled(&mut self, seq: u64, sent_ns: u64, len: usize, byte: u8) -> io::Result<()> {
        let body = u32::try_from(BODY_HEAD + len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame over 4 GiB"))?;
        let frame = PREFIX + BODY_HEAD + len;
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

    /// Writes the buffer to the pipe in one `write_all` and empties it.
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
    /// First byte not yet decoded.
    start: usize,
    /// End of the bytes read.
    end: usize,
    /// The largest body accepted: a longer length prefix means a corrupt stream, and is refused
    /// before anything is allocated for it.
    max_body: usize,
    /// The pipe.
    input: R,
}

impl<R: Read> FrameReader<R> {
    /// A reader over `input` with a [`BUFFER`]-byte buffer that accepts bodies of at most
    /// `max_body` bytes (it grows once to fit the largest frame).
    pub fn new(input: R, max_body: usize) -> Self {
        Self {
            buf: vec![0; BUFFER.max(PREFIX + max_body)],
            start: 0,
            end: 0,
            max_body,
            input,
        }
    }

    /// The next frame, or `None` at end of file (a frame cut short by the writer's death counts
    /// as end of file too).
    pub fn next_frame(&mut self) -> io::Result<Option<Frame<'_>>> {
        if self.end - self.start < PREFIX && !self.fill(PREFIX)? {
            return Ok(None);
        }
        let at = self.start;
        let prefix: [u8; PREFIX] = self.buf[at..at + PREFIX].try_into().expect("4 bytes");
        let len = u32::from_le_bytes(prefix) as usize;
        if !(BODY_HEAD..=self.max_body).contains(&len) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a frame of {len} bytes, outside {BODY_HEAD}..={}",
                    self.max_body
                ),
            ));
        }
        if self.end - self.start < PREFIX + len && !self.fill(PREFIX + len)? {
            return Ok(None);
        }
        // Filling may have moved the frame to the front of the buffer.
        let at = self.start;
        let body = &self.buf[at + PREFIX..at + PREFIX + len];
        self.start = at + PREFIX + len;
        let word = |i: usize| u64::from_le_bytes(body[i..i + 8].try_into().expect("8 bytes"));
        Ok(Some(Frame {
            seq: word(0),
            sent_ns: word(8),
            payload: &body[BODY_HEAD..],
        }))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(frames: &[(u64, u64, usize, u8)]) -> Vec<u8> {
        let mut writer = FrameWriter::new(Vec::new());
        for &(seq, sent, len, byte) in frames {
            writer.frame_filled(seq, sent, len, byte).unwrap();
        }
        writer.flush().unwrap();
        writer.out
    }

    #[test]
    fn frames_round_trip_and_a_cut_frame_reads_as_end_of_file() {
        let bytes = wire(&[(1, 10, 2, b'a'), (2, 0, 0, 0)]);
        assert_eq!(bytes.len(), 2 * (PREFIX + BODY_HEAD) + 2);
        assert_eq!(&bytes[..4], &18u32.to_le_bytes());

        let mut cut = FrameReader::new(&bytes[..bytes.len() - 3], 64);
        let first = cut.next_frame().unwrap().unwrap();
        assert_eq!(
            (first.seq, first.sent_ns, first.payload),
            (1, 10, &b"aa"[..])
        );
        assert_eq!(cut.next_frame().unwrap(), None);

        let mut whole = FrameReader::new(&bytes[..], 64);
        whole.next_frame().unwrap();
        let second = whole.next_frame().unwrap().unwrap();
        assert_eq!(
            (second.seq, second.sent_ns, second.payload),
            (2, 0, &b""[..])
        );
        assert_eq!(whole.next_frame().unwrap(), None);
    }

    #[test]
    fn frames_across_buffer_boundaries_and_larger_than_the_buffer_arrive_whole() {
        // 1000-byte payloads do not divide 64 KiB, so frames straddle refills; the last frame is
        // twice the buffer and grows both ends once.
        let mut frames: Vec<_> = (0..200).map(|i| (i, i + 1, 1000, i as u8)).collect();
        frames.push((200, 201, 2 * BUFFER, 7));
        let bytes = wire(&frames);
        let mut reader = FrameReader::new(&bytes[..], BODY_HEAD + 2 * BUFFER);
        for &(seq, sent, len, byte) in &frames {
            let frame = reader.next_frame().unwrap().unwrap();
            assert_eq!(
                (frame.seq, frame.sent_ns, frame.payload.len()),
                (seq, sent, len)
            );
            assert!(frame.payload.iter().all(|&b| b == byte));
        }
        assert_eq!(reader.next_frame().unwrap(), None);
    }

    #[test]
    fn a_length_outside_the_accepted_range_is_refused() {
        let bytes = wire(&[(1, 1, 100, 1)]);
        for (wire, max_body) in [(&bytes[..], BODY_HEAD + 99), (&[3u8, 0, 0, 0][..], 64)] {
            let err = FrameReader::new(wire, max_body).next_frame().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        }
    }
}
