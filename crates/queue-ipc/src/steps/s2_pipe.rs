//! Step 2: a pipe with length-prefixed frames, `multiprocessing.Pipe` done by hand.
//!
//! Since step 1: no library between the processes. A pipe carries bytes, so each message is a
//! frame, and 64 KiB buffers at both ends let one `write` carry hundreds of small ones.

// ANCHOR: frame
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::fd::AsFd as _;
use std::process::{ChildStdout, Command};

use super::{Error, Streamed};
use crate::process::{ChildGuard, READY, WORKER_FLAG, Worker, monotonic_ns, read_ready};

/// Buffer size at both ends.
pub const BUFFER: usize = 64 * 1024;
/// Bytes of a body before its payload: sequence number and send time.
pub const HEAD: usize = 16;

/// When the child's buffer goes down the pipe (`EachMessage`: as Python's `send_bytes` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// When it is full, and at the end.
    WhenFull,
    /// After every frame.
    EachMessage,
}

/// The child's loop: `messages` frames, each `[len: u32][seq: u64][sent_ns: u64][payload]`.
pub fn write_frames(out: impl Write, messages: u64, bytes: usize, flush: Flush) -> io::Result<()> {
    let len = u32::try_from(HEAD + bytes).map_err(|_| io::Error::other("frame over 4 GiB"))?;
    let mut out = BufWriter::with_capacity(BUFFER, out);
    let mut payload = vec![0u8; bytes];
    for seq in 0..messages {
        payload.fill(seq as u8);
        out.write_all(&len.to_le_bytes())?;
        out.write_all(&seq.to_le_bytes())?;
        out.write_all(&monotonic_ns().to_le_bytes())?;
        out.write_all(&payload)?;
        if flush == Flush::EachMessage {
            out.flush()?;
        }
    }
    // Without this flush the last buffer would be lost when the process exits.
    out.flush()
}

/// One decoded frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The sequence number.
    pub seq: u64,
    /// The send time on `CLOCK_MONOTONIC` (0 where the sender stamped none).
    pub sent_ns: u64,
    /// The payload: every byte is the sequence number's low byte.
    pub payload: &'a [u8],
}

/// The reading end: frames out of a byte stream, through a 64 KiB `BufReader`.
#[derive(Debug)]
pub struct Frames<R> {
    input: BufReader<R>,
    /// The last frame's body, reused rather than allocated per frame.
    body: Vec<u8>,
    bytes: usize,
}

impl<R: Read> Frames<R> {
    /// Frames of `bytes` payload bytes from `input`.
    pub fn new(input: BufReader<R>, bytes: usize) -> Self {
        let body = Vec::with_capacity(HEAD + bytes);
        Self { input, body, bytes }
    }

    /// The next frame, or `None` at end of file, also inside a frame: the writer is gone.
    pub fn next_frame(&mut self) -> io::Result<Option<Frame<'_>>> {
        let mut len = [0u8; 4];
        if !read_or_eof(&mut self.input, &mut len)? {
            return Ok(None);
        }
        let len = u32::from_le_bytes(len) as usize;
        if len != HEAD + self.bytes {
            let err = format!("a frame of {len} bytes, not {}", HEAD + self.bytes);
            return Err(io::Error::new(io::ErrorKind::InvalidData, err));
        }
        self.body.resize(len, 0);
        if !read_or_eof(&mut self.input, &mut self.body)? {
            return Ok(None);
        }
        let word = |i: usize| u64::from_le_bytes(self.body[i..i + 8].try_into().expect("8 bytes"));
        let (seq, sent_ns, payload) = (word(0), word(8), &self.body[HEAD..]);
        Ok(Some(Frame {
            seq,
            sent_ns,
            payload,
        }))
    }
}

/// `read_exact`, with end of file as `false`.
fn read_or_eof(input: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    match input.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(err) => Err(err),
    }
}
// ANCHOR_END: frame

// ANCHOR: pattern
/// Starts a child that writes `messages` frames of `bytes` payload bytes, and waits for its
/// "ready" line (if it died first, the frames read as end of file at once).
pub fn start(
    worker: &Worker,
    messages: u64,
    bytes: usize,
    flush: Flush,
) -> Result<(ChildGuard, Frames<ChildStdout>), Error> {
    let mut command = Command::new(worker.path());
    let (count, size) = (messages.to_string(), bytes.to_string());
    let each = flush == Flush::EachMessage;
    command.args([WORKER_FLAG, if each { "pipe-per-message" } else { "pipe" }]);
    command.args(["--count", &count, "--bytes", &size]);
    let mut child = ChildGuard::spawn(&mut command)?;
    let mut input = BufReader::with_capacity(BUFFER, child.take_stdout()?);
    read_ready(&mut input)?;
    Ok((child, Frames::new(input, bytes)))
}

/// Whether `frame` is the one expected at `seq`: its number, and every payload byte.
pub fn intact(frame: &Frame<'_>, seq: u64) -> bool {
    frame.seq == seq && frame.payload.iter().all(|&b| b == seq as u8)
}

/// The whole step: a child writes `messages` frames, the parent counts those that arrive whole
/// and in order. A child that dies mid-stream gives a short count, never a hang.
pub fn run(worker: &Worker, messages: u64, bytes: usize, flush: Flush) -> Result<Streamed, Error> {
    let (mut child, mut frames) = start(worker, messages, bytes, flush)?;
    let mut received = 0;
    while received < messages {
        match frames.next_frame()? {
            Some(frame) if intact(&frame, received) => received += 1,
            _ => break,
        }
    }
    // Closed before the wait, so a child still writing gets EPIPE instead of blocking.
    drop(frames);
    let failure = child.failure()?;
    Ok(Streamed {
        sent: messages,
        received,
        failure,
    })
}

/// The child's side: "ready", then the frames, on stdout.
pub fn child(messages: u64, bytes: usize, flush: Flush) -> Result<(), Error> {
    // fd 1 as a plain `File`: `io::stdout()` would flush at every newline byte of the stream.
    let mut stdout = File::from(io::stdout().as_fd().try_clone_to_owned()?);
    writeln!(stdout, "{READY}")?;
    write_frames(stdout, messages, bytes, flush)?;
    Ok(())
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_a_cut_frame_reads_as_end_of_file() {
        let mut wire = Vec::new();
        write_frames(&mut wire, 3, 5, Flush::WhenFull).unwrap();
        assert_eq!(wire.len(), 3 * (4 + HEAD + 5));
        let mut frames = Frames::new(BufReader::new(&wire[..]), 5);
        for seq in 0..3 {
            let frame = frames.next_frame().unwrap().unwrap();
            assert!(intact(&frame, seq) && frame.sent_ns > 0, "{frame:?}");
        }
        assert_eq!(frames.next_frame().unwrap(), None);
        let mut cut = Frames::new(BufReader::new(&wire[..wire.len() - 1]), 5);
        assert!(cut.next_frame().unwrap().is_some());
        assert!(cut.next_frame().unwrap().is_some());
        assert_eq!(cut.next_frame().unwrap(), None);
    }

    #[test]
    fn a_wrong_length_is_refused_and_a_wrong_byte_is_seen() {
        let mut wire = Vec::new();
        write_frames(&mut wire, 1, 5, Flush::EachMessage).unwrap();
        let err = Frames::new(BufReader::new(&wire[..]), 6)
            .next_frame()
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        *wire.last_mut().unwrap() = 9;
        let mut frames = Frames::new(BufReader::new(&wire[..]), 5);
        assert!(!intact(&frames.next_frame().unwrap().unwrap(), 0));
    }
}
