//! A raw pipe with length-prefixed frames: `multiprocessing.Pipe`, done by hand.
//!
//! The child's stdout is the pipe (`Stdio::piped()`: the kernel's `pipe(2)`, nothing in
//! between), carrying the frames of [`crate::frame`]. Both ends go through 64 KiB buffers, so
//! one `write`/`read` system call moves hundreds of small frames. That is the whole reason this
//! beats a channel that makes one call per message; the price is latency: a frame waits in the
//! child's buffer until the buffer fills.
//!
//! Once the system calls are batched, a small frame costs tens of nanoseconds, so everything
//! done per frame shows in the rate. Three choices keep that cost down without weakening what is
//! checked (every frame's length, its place in the order, and every payload byte):
//!
//! - Frames are built and decoded in place in each end's buffer ([`crate::frame`]), not pushed
//!   through `BufWriter`/`BufReader` a field at a time and copied into a separate body.
//! - The payload check has no early exit: the XORs against the expected byte are ORed together
//!   eight bytes to a word (`iter().all` stops at the first mismatch, so it goes byte by byte).
//! - Only one frame in [`SAMPLE_EVERY`] is timed. Reading `CLOCK_MONOTONIC` in the child and again
//!   in the parent (tens of nanoseconds each) and recording the difference into a
//!   histogram cost more than all the rest of an 8-byte frame's handling. One frame in 16,
//!   spread evenly over the run, still gives thousands of latencies for the percentiles (6 250
//!   for the default 100 000 messages), the way `race-lock` times one lock wait in 16. Unsampled
//!   frames carry 0 as their send time, so every frame keeps its size and the same bytes cross
//!   the pipe; the parent checks that exactly the sampled frames carry a time.

use std::fs::File;
use std::io;
use std::os::fd::AsFd as _;

use anyhow::Context as _;
use timing::{Latencies, Row, Stopwatch};

use crate::child::die_now;
use crate::frame::{BODY_HEAD, FrameReader, FrameWriter, PREFIX};
use crate::process::{Worker, shortfall};
use crate::{LESSON, Variant, WorkerArgs, monotonic_ns};

/// One frame in this many is timed (its sequence number a multiple of it); the rest carry 0 as
/// their send time.
pub const SAMPLE_EVERY: u64 = 16;
/// The pipe's own capacity, asked of the kernel: 1 MiB, the most it allows without privileges.
const PIPE_SIZE: i32 = 1 << 20;

/// Whether frame `seq` is one of the timed sample.
fn sampled(seq: u64) -> bool {
    seq.is_multiple_of(SAMPLE_EVERY)
}

/// Whether `payload` is `bytes` long and every byte of it is `byte`. Every byte is looked at:
/// the XORs are ORed together with no early exit, a word at a time.
pub fn payload_intact(payload: &[u8], bytes: u64, byte: u8) -> bool {
    // Eight bytes at a time against the byte repeated eight times, then the tail byte by byte.
    let pattern = u64::from_ne_bytes([byte; 8]);
    let mut words = payload.chunks_exact(8);
    let diff = words.by_ref().fold(0, |acc, word| {
        acc | (u64::from_ne_bytes(word.try_into().expect("chunks of 8")) ^ pattern)
    });
    let tail = words.remainder().iter().fold(0, |acc, &b| acc | (b ^ byte));
    payload.len() as u64 == bytes && diff == 0 && tail == 0
}

/// The `pipe` variant: a child writes `messages` frames of `bytes` payload bytes to its stdout,
/// the parent reads them, checks order and every payload byte, and measures MB/s and the
/// latency of one frame in [`SAMPLE_EVERY`].
pub fn pipe(
    worker: &Worker,
    messages: u64,
    bytes: u64,
    child_dies_after: Option<u64>,
) -> anyhow::Result<Row> {
    let args = WorkerArgs::command_line(Variant::Pipe, "", messages, bytes, child_dies_after);
    let mut child = worker.spawn(&args)?;
    let stdout = child.take_stdout()?;
    // A pipe holds 64 KiB by default: the writer blocks, and both processes switch, every 64 KiB.
    // Linux lets an unprivileged process grow it to 1 MiB (`/proc/sys/fs/pipe-max-size`), which
    // lets the child run ahead of the parent. Best effort: a smaller pipe is only slower.
    let _ = nix::fcntl::fcntl(&stdout, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
    let max_body = BODY_HEAD + usize::try_from(bytes).context("payload size")?;
    let mut input = FrameReader::new(stdout, max_body);

    let mut latencies = Latencies::new();
    let mut received = 0;
    let watch = Stopwatch::start();
    while received < messages {
        let Some(frame) = input.next_frame()? else {
            break; // end of file: the child is gone
        };
        // The payload's every byte is the sequence number's low byte: a cheap whole-frame check.
        // A send time where none belongs (or none where one does) is a broken frame as well.
        let stamped = frame.sent_ns != 0;
        let intact = payload_intact(frame.payload, bytes, frame.seq as u8);
        if frame.seq != received || !intact || stamped != sampled(received) {
            break;
        }
        if stamped {
            latencies.record_ns(monotonic_ns().saturating_sub(frame.sent_ns));
        }
        received += 1;
    }
    let wall = watch.elapsed();
    // Close our end before waiting, so a child still writing gets EPIPE instead of blocking.
    drop(input);
    let status = child.wait()?;

    let moved = received * (PREFIX as u64 + BODY_HEAD as u64 + bytes);
    let rate = timing::fmt_bytes_rate(moved as f64 / wall.as_secs_f64().max(1e-9));
    let note = if received < messages || !status.success() {
        shortfall(child.pid(), status, received, messages)
    } else {
        format!("{rate}, {bytes} B payloads, in order, 1 in {SAMPLE_EVERY} timed")
    };
    Ok(Row::new(LESSON, Variant::Pipe.name())
        .items(received)
        .check(messages, received)
        .require(status.success())
        .wall(wall)
        .latencies(&latencies)
        .note(note)
        .extra("payload_bytes", bytes)
        .extra("latency_sampled_every", SAMPLE_EVERY)
        .extra("bytes_per_s", moved as f64 / wall.as_secs_f64().max(1e-9)))
}

/// The child's side: `messages` frames to stdout through a 64 KiB buffer, one in
/// [`SAMPLE_EVERY`] stamped with its send time.
pub(crate) fn child(messages: u64, bytes: u64, dies_after: Option<u64>) -> anyhow::Result<()> {
    // A duplicate of fd 1 as a plain `File`: `io::stdout()` is line-buffered and would flush at
    // every newline byte in the binary stream.
    let stdout = io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .context("duplicating stdout")?;
    let mut out = FrameWriter::new(File::from(stdout));
    let len = usize::try_from(bytes).context("payload size")?;
    for seq in 0..messages {
        if dies_after == Some(seq) {
            // Flush first so the parent receives exactly `seq` frames and the test can check
            // the count; a real `kill -9` would also lose what sat in the buffer.
            out.flush()?;
            die_now();
        }
        let sent_ns = if sampled(seq) { monotonic_ns() } else { 0 };
        out.frame_filled(seq, sent_ns, len, seq as u8)
            .context("writing to the parent")?;
    }
    out.flush().context("writing to the parent")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_check_sees_every_byte_and_the_length() {
        let mut payload = vec![7u8; 300];
        assert!(payload_intact(&payload, 300, 7));
        assert!(!payload_intact(&payload, 301, 7));
        assert!(!payload_intact(&payload, 300, 8));
        for at in [0, 31, 32, 299] {
            payload[at] = 6;
            assert!(!payload_intact(&payload, 300, 7), "a bad byte at {at}");
            payload[at] = 7;
        }
    }

    #[test]
    fn one_frame_in_sample_every_is_timed_starting_with_the_first() {
        let timed: Vec<u64> = (0..3 * SAMPLE_EVERY).filter(|&s| sampled(s)).collect();
        assert_eq!(timed, [0, SAMPLE_EVERY, 2 * SAMPLE_EVERY]);
    }
}
