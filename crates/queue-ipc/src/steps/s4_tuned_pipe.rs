//! Step 4: step 2's pipe on step 3's buffers, its payload checked a word at a time and one frame
//! in 16 timed, which buys a higher rate of small frames (figures in `docs/results.md`).
//!
//! Since step 2, besides step 3's buffers, three things cut the work per frame without
//! weakening what is checked (every frame's length, its place in the order, every payload byte):
//! - The payload check has no early exit: the XORs against the expected byte are ORed together
//!   eight bytes to a word (`iter().all` stops at the first mismatch, so it goes byte by byte).
//! - Only one frame in [`SAMPLE_EVERY`] carries its send time. Reading `CLOCK_MONOTONIC` in the
//!   child and again in the parent costs more than the rest of a small frame's handling; one in
//!   16 still gives thousands of latencies. The others carry 0, so every frame keeps its size.
//! - The pipe itself grows from 64 KiB to 1 MiB, so the child runs further ahead of the parent
//!   before it blocks and both processes switch.

// ANCHOR: pattern
use std::fs::File;
use std::io::{self, Write as _};
use std::os::fd::AsFd as _;
use std::process::{ChildStdout, Command};

use super::s2_pipe::{Frame, HEAD};
use super::s3_frame_buffers::{FrameReader, FrameWriter};
use super::{Error, Streamed};
use crate::process::read_ready_unbuffered;
use crate::process::{ChildGuard, READY, WORKER_FLAG, Worker, monotonic_ns};

/// One frame in this many is timed (its sequence number a multiple of it).
pub const SAMPLE_EVERY: u64 = 16;
/// The pipe's capacity asked of the kernel: 1 MiB, the most it allows without privileges.
const PIPE_SIZE: i32 = 1 << 20;

/// Whether frame `seq` is one of the timed sample.
pub fn sampled(seq: u64) -> bool {
    seq.is_multiple_of(SAMPLE_EVERY)
}

/// Whether `frame` is the one expected at `seq`, with `bytes` of payload, every byte looked at,
/// and stamped exactly if it is sampled.
pub fn intact(frame: &Frame<'_>, seq: u64, bytes: usize) -> bool {
    let stamped = frame.sent_ns != 0;
    let whole = frame.payload.len() == bytes && filled_with(frame.payload, seq as u8);
    frame.seq == seq && whole && stamped == sampled(seq)
}

/// Whether every byte of `payload` is `byte`: eight at a time, with no early exit.
pub fn filled_with(payload: &[u8], byte: u8) -> bool {
    let pattern = u64::from_ne_bytes([byte; 8]);
    let mut words = payload.chunks_exact(8);
    let diff = words.by_ref().fold(0, |acc, word| {
        acc | (u64::from_ne_bytes(word.try_into().expect("chunks of 8")) ^ pattern)
    });
    let tail = words.remainder().iter().fold(0, |acc, &b| acc | (b ^ byte));
    diff == 0 && tail == 0
}

/// Starts a child that writes `messages` frames of `bytes` payload bytes, as step 2's `start`.
pub fn start(
    worker: &Worker,
    messages: u64,
    bytes: usize,
) -> Result<(ChildGuard, FrameReader<ChildStdout>), Error> {
    let mut command = Command::new(worker.path());
    let (count, size) = (messages.to_string(), bytes.to_string());
    command.args([WORKER_FLAG, "pipe-tuned"]);
    command.args(["--count", &count, "--bytes", &size]);
    let mut child = ChildGuard::spawn(&mut command)?;
    let mut stdout = child.take_stdout()?;
    // Best effort: a smaller pipe is only slower.
    let _ = nix::fcntl::fcntl(&stdout, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
    read_ready_unbuffered(&mut stdout)?;
    Ok((child, FrameReader::new(stdout, HEAD + bytes)))
}

/// The whole step: step 2's `run`, on the tuned ends.
pub fn run(worker: &Worker, messages: u64, bytes: usize) -> Result<Streamed, Error> {
    let (mut child, mut frames) = start(worker, messages, bytes)?;
    let mut received = 0;
    while received < messages {
        match frames.next_frame()? {
            Some(frame) if intact(&frame, received, bytes) => received += 1,
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
pub fn child(messages: u64, bytes: usize) -> Result<(), Error> {
    // A plain `File` on fd 1, as in step 2: `io::stdout()` is line-buffered.
    let mut stdout = File::from(io::stdout().as_fd().try_clone_to_owned()?);
    writeln!(stdout, "{READY}")?;
    write_frames(stdout, messages, bytes)?;
    Ok(())
}

/// The child's loop: `messages` frames built in place, one in [`SAMPLE_EVERY`] stamped.
pub fn write_frames(out: impl io::Write, messages: u64, bytes: usize) -> io::Result<()> {
    let mut out = FrameWriter::new(out);
    for seq in 0..messages {
        let sent_ns = if sampled(seq) { monotonic_ns() } else { 0 };
        out.frame_filled(seq, sent_ns, bytes, seq as u8)?;
    }
    out.flush()
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_check_sees_every_byte_the_length_and_the_stamp() {
        fn frame(payload: &[u8], sent_ns: u64) -> Frame<'_> {
            Frame {
                seq: 7,
                sent_ns,
                payload,
            }
        }
        let mut payload = vec![7u8; 300];
        assert!(intact(&frame(&payload, 0), 7, 300));
        assert!(!intact(&frame(&payload, 0), 7, 301));
        assert!(!intact(&frame(&payload, 5), 7, 300));
        for at in [0, 31, 32, 299] {
            payload[at] = 6;
            assert!(!intact(&frame(&payload, 0), 7, 300), "a bad byte at {at}");
            payload[at] = 7;
        }
    }

    #[test]
    fn one_frame_in_sample_every_is_stamped_starting_with_the_first() {
        let mut wire = Vec::new();
        write_frames(&mut wire, 3 * SAMPLE_EVERY, 4).unwrap();
        let mut reader = FrameReader::new(&wire[..], HEAD + 4);
        let mut stamped = Vec::new();
        while let Some(frame) = reader.next_frame().unwrap() {
            assert!(intact(&frame, frame.seq, 4), "{frame:?}");
            stamped.extend((frame.sent_ns != 0).then_some(frame.seq));
        }
        assert_eq!(stamped, [0, SAMPLE_EVERY, 2 * SAMPLE_EVERY]);
    }
}
