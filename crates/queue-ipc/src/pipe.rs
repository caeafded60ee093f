//! A raw pipe with length-prefixed frames: `multiprocessing.Pipe`, done by hand.
//!
//! A pipe carries bytes, not messages, so each message is a frame: a 4-byte little-endian
//! length, then the body (sequence number, send time, payload). The child's stdout is the pipe
//! (`Stdio::piped()`: the kernel's `pipe(2)`, nothing in between), and both ends go through
//! 64 KiB buffers, so one `write`/`read` system call moves hundreds of small frames. That is the
//! whole reason this beats a channel that makes one call per message; the price is latency:
//! a frame waits in the child's buffer until the buffer fills.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::fd::AsFd as _;

use anyhow::Context as _;
use timing::{Latencies, Row, Stopwatch};

use crate::child::die_now;
use crate::process::{Worker, shortfall};
use crate::{LESSON, Variant, WorkerArgs, monotonic_ns};

/// Bytes of the length prefix.
const PREFIX: usize = 4;
/// Bytes of a body before its payload: sequence number and send time.
const BODY_HEAD: usize = 16;
/// Buffer size at both ends: many frames per system call.
const BUFFER: usize = 64 * 1024;
/// The pipe's own capacity, asked of the kernel: 1 MiB, the most it allows without privileges.
const PIPE_SIZE: i32 = 1 << 20;

/// Writes one frame: length, sequence number, send time, payload.
pub fn write_frame(out: &mut impl Write, seq: u64, sent_ns: u64, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(BODY_HEAD + payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame over 4 GiB"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(&seq.to_le_bytes())?;
    out.write_all(&sent_ns.to_le_bytes())?;
    out.write_all(payload)
}

/// Reads one frame into `body` and returns its (sequence number, send time), or `None` at end
/// of file (a frame cut short by the writer's death counts as end of file too).
pub fn read_frame(input: &mut impl Read, body: &mut Vec<u8>) -> io::Result<Option<(u64, u64)>> {
    let mut prefix = [0u8; PREFIX];
    match input.read_exact(&mut prefix) {
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let len = u32::from_le_bytes(prefix) as usize;
    if len < BODY_HEAD {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame shorter than its header",
        ));
    }
    body.resize(len, 0);
    match input.read_exact(body) {
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let word = |at: usize| u64::from_le_bytes(body[at..at + 8].try_into().expect("8 bytes"));
    Ok(Some((word(0), word(8))))
}

/// The `pipe` variant: a child writes `messages` frames of `bytes` payload bytes to its stdout,
/// the parent reads them, checks order and every payload byte, and measures MB/s and latency.
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
    let mut input = BufReader::with_capacity(BUFFER, stdout);

    let mut latencies = Latencies::new();
    let mut body = Vec::new();
    let mut received = 0;
    let watch = Stopwatch::start();
    while received < messages {
        let Some((seq, sent_ns)) = read_frame(&mut input, &mut body)? else {
            break; // end of file: the child is gone
        };
        latencies.record_ns(monotonic_ns().saturating_sub(sent_ns));
        // The payload's every byte is the sequence number's low byte: a cheap whole-frame check.
        let intact = body.len() as u64 == BODY_HEAD as u64 + bytes
            && body[BODY_HEAD..].iter().all(|&b| b == seq as u8);
        if seq != received || !intact {
            break;
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
        format!("{rate}, {bytes} B payloads, in order")
    };
    Ok(Row::new(LESSON, Variant::Pipe.name())
        .items(received)
        .check(messages, received)
        .require(status.success())
        .wall(wall)
        .latencies(&latencies)
        .note(note)
        .extra("payload_bytes", bytes)
        .extra("bytes_per_s", moved as f64 / wall.as_secs_f64().max(1e-9)))
}

/// The child's side: `messages` frames to stdout through a 64 KiB buffer.
pub(crate) fn child(messages: u64, bytes: u64, dies_after: Option<u64>) -> anyhow::Result<()> {
    // A duplicate of fd 1 as a plain `File`: `io::stdout()` is line-buffered and would flush at
    // every newline byte in the binary stream.
    let stdout = io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .context("duplicating stdout")?;
    let mut out = BufWriter::with_capacity(BUFFER, File::from(stdout));
    let mut payload = vec![0u8; usize::try_from(bytes).context("payload size")?];
    for seq in 0..messages {
        if dies_after == Some(seq) {
            // Flush first so the parent receives exactly `seq` frames and the test can check
            // the count; a real `kill -9` would also lose what sat in the buffer.
            out.flush()?;
            die_now();
        }
        payload.fill(seq as u8);
        write_frame(&mut out, seq, monotonic_ns(), &payload).context("writing to the parent")?;
    }
    out.flush().context("writing to the parent")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_a_cut_frame_reads_as_end_of_file() {
        let mut wire = Vec::new();
        write_frame(&mut wire, 1, 10, b"ab").unwrap();
        write_frame(&mut wire, 2, 20, b"").unwrap();
        assert_eq!(wire.len(), 2 * (PREFIX + BODY_HEAD) + 2);

        let mut input = &wire[..wire.len() - 3];
        let mut body = Vec::new();
        assert_eq!(read_frame(&mut input, &mut body).unwrap(), Some((1, 10)));
        assert_eq!(&body[BODY_HEAD..], b"ab");
        assert_eq!(read_frame(&mut input, &mut body).unwrap(), None);

        let mut whole = &wire[..];
        read_frame(&mut whole, &mut body).unwrap();
        assert_eq!(read_frame(&mut whole, &mut body).unwrap(), Some((2, 20)));
        assert_eq!(read_frame(&mut whole, &mut body).unwrap(), None);
    }
}
