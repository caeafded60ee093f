//! Long runs speak: before anything runs, each selected variant's length is estimated from a
//! pilot of its own step code, and a run past ten minutes is refused (exit 2, with the size that
//! would fit), one past three seconds announced on stderr.
//!
//! The pilot runs in this process, the child's loop on a thread writing into a pipe or channel
//! that this thread reads as the parent, or the counting loop on a few threads: a pilot child
//! would cost an `exec`, and look to anyone watching like the run's own. A run at most [`SHORT`]
//! times its pilot's size is short on any machine and gets no pilot.

use std::io::{self, BufReader};
use std::thread;
use std::time::Duration;

use anyhow::anyhow;
use ipc_channel::ipc;
use timing::{REFUSE_AFTER, Stopwatch, extrapolate, fmt_count};

use super::{Sizes, Variant};
use crate::shm::{Segment, segment_name};
use crate::shm_lock::SharedLock;
use crate::steps::s1_channel::{self, ToParent};
use crate::steps::s2_pipe::{self, BUFFER, Flush, Frames, HEAD};
use crate::steps::s3_frame_buffers::{FrameReader, PREFIX};
use crate::steps::s5_locked_counter::{self, COUNTER, LEN, LOCK_AT};
use crate::steps::{s4_tuned_pipe, s6_atomic_counter};

/// Messages in the ipc-channel pilot.
const PILOT_MESSAGES: u64 = 2_000;
/// Bytes a pipe pilot moves, at most (and at most 20 000 frames).
const PILOT_BYTES: usize = 2 << 20;
/// Increments per thread in a counter pilot.
const PILOT_INCREMENTS: u64 = 20_000;
/// A run at most this many times its pilot's size needs no estimate.
const SHORT: u64 = 10;

/// Announces or refuses each of `variants` at `sizes` by its estimated length.
pub fn check_lengths(variants: &[Variant], sizes: Sizes) -> anyhow::Result<()> {
    for &variant in variants {
        let estimate = match variant {
            // At most 1 GiB, written once and read once: seconds, never minutes.
            Variant::ShmArray => None,
            Variant::ShmCounterLocked | Variant::ShmCounter => counter_estimate(variant, sizes)?,
            _ => stream_estimate(variant, sizes)?,
        };
        if let Some((what, estimate, instead)) = estimate {
            timing::check_duration(&what, estimate, &instead)?;
        }
    }
    Ok(())
}

/// What a run is, how long it should take, and what to pass instead.
type Estimate = (String, Duration, String);

/// A counter's estimate from step 5's or 6's loop on a few threads; `None` for a short run.
fn counter_estimate(variant: Variant, sizes: Sizes) -> anyhow::Result<Option<Estimate>> {
    let (children, increments) = (sizes.children, sizes.increments);
    let threads = children.min(timing::cores()).max(1);
    let total = children as u64 * increments;
    let pilot = threads as u64 * PILOT_INCREMENTS;
    if total <= SHORT * pilot {
        return Ok(None);
    }
    let took = count_pilot(variant == Variant::ShmCounterLocked, threads)?;
    let estimate = extrapolate(pilot, took, total);
    let (k, n) = (fmt_count(children as u64), fmt_count(increments));
    let what = format!("{} with {k} processes × {n} increments", variant.name());
    let fits = fitting(increments, estimate);
    let instead = format!("pass --increments {fits} or less, or fewer --workers");
    Ok(Some((what, estimate, instead)))
}

/// A stream's estimate from its child's loop on a thread; `None` for a short run.
fn stream_estimate(variant: Variant, sizes: Sizes) -> anyhow::Result<Option<Estimate>> {
    let (messages, bytes) = (sizes.messages, sizes.bytes);
    let pilot = match variant {
        Variant::IpcChannel => PILOT_MESSAGES,
        _ => (PILOT_BYTES / (PREFIX + HEAD + bytes)).clamp(1, 20_000) as u64,
    };
    if messages <= SHORT * pilot {
        return Ok(None);
    }
    let took = match variant {
        Variant::IpcChannel => channel_pilot(pilot)?,
        _ => pipe_pilot(variant, pilot, bytes)?,
    };
    let estimate = extrapolate(pilot, took, messages);
    let what = format!("{} with {} messages", variant.name(), fmt_count(messages));
    let instead = format!("pass --messages {} or less", fitting(messages, estimate));
    Ok(Some((what, estimate, instead)))
}

/// The largest size that would fit in the time allowed at the estimated rate, rounded down to
/// two significant digits (at least 1).
fn fitting(size: u64, estimate: Duration) -> String {
    let ratio = REFUSE_AFTER.as_secs_f64() / estimate.as_secs_f64().max(1e-9);
    let fits = (size as f64 * ratio) as u64;
    let mut scale = 1;
    while fits / scale >= 100 {
        scale *= 10;
    }
    fmt_count((fits / scale * scale).max(1))
}

/// Step 1's child loop on a thread, the parent's receive on this one, over one channel.
fn channel_pilot(messages: u64) -> anyhow::Result<Duration> {
    let (tx, rx) = ipc::channel::<ToParent>()?;
    let (result, took) = Stopwatch::time(|| {
        thread::scope(|s| {
            let sender = s.spawn(move || s1_channel::send_messages(&tx, messages));
            for _ in 0..messages {
                rx.recv()?;
            }
            sender
                .join()
                .map_err(|_| anyhow!("the pilot's sender panicked"))??;
            anyhow::Ok(())
        })
    });
    result?;
    Ok(took)
}

/// The variant's child loop on a thread, writing into a pipe this thread reads as the parent.
fn pipe_pilot(variant: Variant, frames: u64, bytes: usize) -> anyhow::Result<Duration> {
    let (reader, writer) = io::pipe()?;
    let (result, took) = Stopwatch::time(|| {
        thread::scope(|s| {
            let writing = s.spawn(move || match variant {
                Variant::PipeTuned => s4_tuned_pipe::write_frames(writer, frames, bytes),
                Variant::PipePerMessage => {
                    s2_pipe::write_frames(writer, frames, bytes, Flush::EachMessage)
                }
                _ => s2_pipe::write_frames(writer, frames, bytes, Flush::WhenFull),
            });
            // Returning drops the read end, so a writer still writing gets EPIPE, not a hang.
            let read = read_pilot(variant, reader, frames, bytes);
            writing
                .join()
                .map_err(|_| anyhow!("the pilot's writer panicked"))??;
            anyhow::Ok(read?)
        })
    });
    result?;
    Ok(took)
}

/// Reads and checks `frames` frames as the variant's parent does.
fn read_pilot(
    variant: Variant,
    reader: io::PipeReader,
    frames: u64,
    bytes: usize,
) -> io::Result<()> {
    let broken = || io::Error::new(io::ErrorKind::InvalidData, "the pilot's stream broke");
    if variant == Variant::PipeTuned {
        let mut input = FrameReader::new(reader, HEAD + bytes);
        for seq in 0..frames {
            let frame = input.next_frame()?.ok_or_else(broken)?;
            s4_tuned_pipe::intact(&frame, seq, bytes)
                .then_some(())
                .ok_or_else(broken)?;
        }
    } else {
        let mut input = Frames::new(BufReader::with_capacity(BUFFER, reader), bytes);
        for seq in 0..frames {
            let frame = input.next_frame()?.ok_or_else(broken)?;
            s2_pipe::intact(&frame, seq)
                .then_some(())
                .ok_or_else(broken)?;
        }
    }
    Ok(())
}

/// Step 5's or 6's counting loop on `threads` threads sharing one segment's counter.
fn count_pilot(locked: bool, threads: usize) -> anyhow::Result<Duration> {
    let mut segment = Segment::create(&segment_name("pilot"), LEN)?;
    // No other process will map it: the name can go at once.
    segment.unlink()?;
    let lock = if locked {
        Some(SharedLock::create(&segment, LOCK_AT)?)
    } else {
        None
    };
    let counter = &segment.words()[COUNTER];
    let (result, took) = Stopwatch::time(|| {
        thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| match &lock {
                        Some(lock) => s5_locked_counter::count(lock, counter, PILOT_INCREMENTS),
                        None => {
                            s6_atomic_counter::count(counter, PILOT_INCREMENTS);
                            Ok(())
                        }
                    })
                })
                .collect();
            for handle in handles {
                handle
                    .join()
                    .map_err(|_| anyhow!("a pilot thread panicked"))??;
            }
            anyhow::Ok(())
        })
    });
    result?;
    Ok(took)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: Sizes = Sizes {
        messages: 100_000_000,
        bytes: 64,
        increments: 1_000_000_000,
        children: 1024,
        elements: 1 << 27,
    };

    #[test]
    fn absurd_sizes_get_estimates_past_the_limit_and_small_ones_none() -> anyhow::Result<()> {
        let (what, long, instead) = counter_estimate(Variant::ShmCounter, SIZES)?.expect("long");
        assert!(long > REFUSE_AFTER, "{what}: {long:?}");
        assert!(instead.starts_with("pass --increments "), "{instead}");
        let small = Sizes {
            messages: 100,
            increments: 100,
            children: 2,
            ..SIZES
        };
        assert!(counter_estimate(Variant::ShmCounterLocked, small)?.is_none());
        assert!(counter_estimate(Variant::ShmCounterLocked, SIZES)?.is_some());
        for variant in [Variant::IpcChannel, Variant::Pipe, Variant::PipeTuned] {
            assert!(stream_estimate(variant, small)?.is_none());
            let (_, took, _) = stream_estimate(variant, SIZES)?.expect("a long run");
            assert!(took > Duration::ZERO);
        }
        Ok(())
    }

    #[test]
    fn what_fits_is_rounded_down_to_two_digits() {
        assert_eq!(fitting(1_000_000, REFUSE_AFTER * 3), "330 000");
        assert_eq!(fitting(10, REFUSE_AFTER * 1000), "1");
    }
}
