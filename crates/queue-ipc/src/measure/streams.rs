//! Rows of the streaming steps (1, 2, 4 and 8): a child sends, the parent counts what arrives in
//! order, and records each message's latency from the child's send to its own receive.

use std::time::Duration;

use timing::{Latencies, Row, Stopwatch, fmt_bytes_rate};

use super::{Measured, Outcome, Variant, row, shortfall};
use crate::process::{ChildGuard, Worker, monotonic_ns};
use crate::shm::ShmError;
use crate::steps::s1_channel::{self, ToParent};
use crate::steps::s2_pipe::{self, Flush, Frame, HEAD};
use crate::steps::s3_frame_buffers::PREFIX;
use crate::steps::s4_tuned_pipe::{self, SAMPLE_EVERY, filled_with};
use crate::steps::s8_shm_ring::{self, Ring};
use crate::steps::{Error, Streamed};

/// Instruments step 1 (`s1_channel::run`): the same loop, each message's latency recorded.
pub fn ipc_channel(worker: &Worker, messages: u64, bytes: usize) -> anyhow::Result<Measured> {
    let (mut child, receiver) = s1_channel::start(worker, messages, bytes)?;
    let (mut latencies, mut received) = (Latencies::new(), 0);
    let watch = Stopwatch::start();
    while let Some(rx) = receiver.as_ref().filter(|_| received < messages) {
        match rx.recv() {
            Ok(ToParent::Message(m)) if s1_channel::intact(&m, received, bytes) => {
                latencies.record_ns(monotonic_ns().saturating_sub(m.sent_ns));
                received += 1;
            }
            _ => break,
        }
    }
    let wall = watch.elapsed();
    drop(receiver);
    let streamed = streamed(messages, received, &mut child)?;
    let how = ("typed messages", HEAD + bytes);
    Ok(framed(
        Variant::IpcChannel,
        streamed,
        wall,
        &latencies,
        (bytes, 1, how),
    ))
}

/// Instruments step 2 (`s2_pipe::run`): the same loop, every frame's latency recorded.
pub fn pipe(
    worker: &Worker,
    messages: u64,
    bytes: usize,
    flush: Flush,
) -> anyhow::Result<Measured> {
    let (mut child, mut frames) = s2_pipe::start(worker, messages, bytes, flush)?;
    let (mut latencies, mut received) = (Latencies::new(), 0);
    let watch = Stopwatch::start();
    while received < messages {
        let Some(frame) = frames.next_frame()? else {
            break; // end of file: the child is gone
        };
        if !s2_pipe::intact(&frame, received) {
            break;
        }
        latencies.record_ns(monotonic_ns().saturating_sub(frame.sent_ns));
        received += 1;
    }
    let wall = watch.elapsed();
    drop(frames);
    let streamed = streamed(messages, received, &mut child)?;
    let (variant, how) = match flush {
        Flush::WhenFull => (Variant::Pipe, "64 KiB buffers"),
        Flush::EachMessage => (Variant::PipePerMessage, "one write per message"),
    };
    let how = (how, PREFIX + HEAD + bytes);
    Ok(framed(variant, streamed, wall, &latencies, (bytes, 1, how)))
}

/// Instruments step 4 (`s4_tuned_pipe::run`): the same loop, the stamped frames' latencies
/// recorded (one in [`SAMPLE_EVERY`]).
pub fn pipe_tuned(worker: &Worker, messages: u64, bytes: usize) -> anyhow::Result<Measured> {
    let (mut child, mut frames) = s4_tuned_pipe::start(worker, messages, bytes)?;
    let (mut latencies, mut received) = (Latencies::new(), 0);
    let watch = Stopwatch::start();
    while received < messages {
        let Some(frame) = frames.next_frame()? else {
            break;
        };
        if !s4_tuned_pipe::intact(&frame, received, bytes) {
            break;
        }
        if frame.sent_ns != 0 {
            latencies.record_ns(monotonic_ns().saturating_sub(frame.sent_ns));
        }
        received += 1;
    }
    let wall = watch.elapsed();
    drop(frames);
    let streamed = streamed(messages, received, &mut child)?;
    let how = ("buffers tuned, 1 in 16 timed", PREFIX + HEAD + bytes);
    let every = SAMPLE_EVERY;
    Ok(framed(
        Variant::PipeTuned,
        streamed,
        wall,
        &latencies,
        (bytes, every, how),
    ))
}

/// Instruments step 8 (`s8_shm_ring::run`): the same loop, every message's latency recorded,
/// as the pipes are.
pub fn shm_ring(worker: &Worker, messages: u64, bytes: usize) -> anyhow::Result<Measured> {
    let (segment, mut child) = s8_shm_ring::start(worker, messages, bytes).map_err(|err| {
        match err {
            // A full /dev/shm is a size the user chose: their error to fix (exit 2), not ours.
            Error::Shm(err @ ShmError::Reserve(..)) => {
                timing::usage_error(format!("{err}: lower --bytes or enlarge /dev/shm"))
            }
            other => other.into(),
        }
    })?;
    let ring = Ring::attach(&segment, bytes);
    let (mut latencies, mut received) = (Latencies::new(), 0);
    let watch = Stopwatch::start();
    while received < messages {
        let check = |frame: &Frame<'_>| {
            let ok = frame.seq == received && filled_with(frame.payload, received as u8);
            ok.then(|| latencies.record_ns(monotonic_ns().saturating_sub(frame.sent_ns)))
        };
        match ring.receive(|| child.has_exited(), check)? {
            Some(Some(())) => received += 1,
            _ => break,
        }
    }
    let wall = watch.elapsed();
    ring.close()?;
    let streamed = streamed(messages, received, &mut child)?;
    let how = ("a ring of slots, no copy through the kernel", HEAD + bytes);
    Ok(framed(
        Variant::ShmRing,
        streamed,
        wall,
        &latencies,
        (bytes, 1, how),
    ))
}

/// What the stream came to, once the parent's end is closed (so a child still writing gets an
/// error instead of blocking) and the child reaped.
pub(super) fn streamed(
    sent: u64,
    received: u64,
    child: &mut ChildGuard,
) -> anyhow::Result<Streamed> {
    let failure = child.failure()?;
    Ok(Streamed {
        sent,
        received,
        failure,
    })
}

/// What a stream's row says of its messages: how they travel, and the bytes each takes with
/// its stamp (and length prefix, on a pipe).
type How<'a> = (&'a str, usize);

/// A stream's row, with its payload size, bytes per second (of whole messages, stamps
/// included) and latency sampling.
pub(super) fn framed(
    variant: Variant,
    streamed: Streamed,
    wall: Duration,
    latencies: &Latencies,
    (bytes, sampled_every, (how, frame)): (usize, u64, How<'_>),
) -> Measured {
    let bytes_per_s = (streamed.received * frame as u64) as f64 / wall.as_secs_f64().max(1e-9);
    let rate = fmt_bytes_rate(bytes_per_s);
    let note = format!("{rate}, {bytes} B payloads, in order, {how}");
    let mut m = measured(variant, streamed, wall, latencies, note);
    m.row = m
        .row
        .extra("payload_bytes", bytes)
        .extra("latency_sampled_every", sampled_every)
        .extra("bytes_per_s", bytes_per_s);
    m
}

/// A stream's row: correct when every message arrived in order and the child ended well;
/// `note` is what a correct row says.
fn measured(
    variant: Variant,
    streamed: Streamed,
    wall: Duration,
    latencies: &Latencies,
    note: String,
) -> Measured {
    let whole = streamed.received == streamed.sent && streamed.failure.is_none();
    let note = if whole { note } else { shortfall(&streamed) };
    let row: Row = row(variant)
        .items(streamed.received)
        .check(streamed.sent, streamed.received)
        .require(streamed.failure.is_none())
        .wall(wall)
        .latencies(latencies)
        .note(note);
    Measured {
        row,
        outcome: Outcome::Stream(streamed),
    }
}

/// The one-shot server is a Unix socket in a new directory under `TMPDIR`, and ipc-channel 0.23
/// panics (an assertion on the error kind) when it cannot create it: check first, and make it the
/// user's error (exit 2) with a line that says what to fix.
pub fn check_temp_dir() -> anyhow::Result<()> {
    let dir = std::env::temp_dir();
    let probe = dir.join(format!(".queue-ipc-probe-{}", std::process::id()));
    match std::fs::create_dir(&probe).and_then(|()| std::fs::remove_dir(&probe)) {
        Ok(()) => Ok(()),
        Err(err) => Err(timing::usage_error(format!(
            "cannot create the ipc-channel socket in {} ({err}): set TMPDIR to a writable directory",
            dir.display()
        ))),
    }
}
