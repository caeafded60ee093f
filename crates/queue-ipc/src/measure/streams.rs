//! Rows of the streaming steps (1, 2 and 4): a child sends, the parent counts what arrives in
//! order, and records each message's latency from the child's send to its own receive.

use std::time::Duration;

use timing::{Latencies, Row, Stopwatch, fmt_bytes_rate, fmt_count};

use super::{Measured, Outcome, Variant, row, shortfall};
use crate::process::{ChildGuard, Worker, monotonic_ns};
use crate::steps::Streamed;
use crate::steps::s1_channel::{self, ToParent};
use crate::steps::s2_pipe::{self, Flush, HEAD};
use crate::steps::s3_frame_buffers::PREFIX;
use crate::steps::s4_tuned_pipe::{self, SAMPLE_EVERY};

/// Instruments step 1 (`s1_channel::run`): the same loop, each message's latency recorded.
pub fn ipc_channel(worker: &Worker, messages: u64) -> anyhow::Result<Measured> {
    let (mut child, receiver) = s1_channel::start(worker, messages)?;
    let (mut latencies, mut received) = (Latencies::new(), 0);
    let watch = Stopwatch::start();
    while let Some(rx) = receiver.as_ref().filter(|_| received < messages) {
        match rx.recv() {
            Ok(ToParent::Message(message)) if message.seq == received => {
                latencies.record_ns(monotonic_ns().saturating_sub(message.sent_ns));
                received += 1;
            }
            _ => break,
        }
    }
    let wall = watch.elapsed();
    drop(receiver);
    let streamed = streamed(messages, received, &mut child)?;
    let note = format!("{} messages, in order", fmt_count(received));
    Ok(measured(
        Variant::IpcChannel,
        streamed,
        wall,
        &latencies,
        note,
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
    let how = "buffers tuned, 1 in 16 timed";
    let every = SAMPLE_EVERY;
    Ok(framed(
        Variant::PipeTuned,
        streamed,
        wall,
        &latencies,
        (bytes, every, how),
    ))
}

/// What the stream came to, once the parent's end is closed (so a child still writing gets an
/// error instead of blocking) and the child reaped.
fn streamed(sent: u64, received: u64, child: &mut ChildGuard) -> anyhow::Result<Streamed> {
    let failure = child.failure()?;
    Ok(Streamed {
        sent,
        received,
        failure,
    })
}

/// A pipe's row: the stream's, with its payload size, bytes per second and sampling.
fn framed(
    variant: Variant,
    streamed: Streamed,
    wall: Duration,
    latencies: &Latencies,
    (bytes, sampled_every, how): (usize, u64, &str),
) -> Measured {
    let frame = (PREFIX + HEAD + bytes) as u64;
    let bytes_per_s = (streamed.received * frame) as f64 / wall.as_secs_f64().max(1e-9);
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
