//! The pilots the estimates come from ([`super::estimate`]): each step's own code, run small in
//! this process, the child's loop on a thread writing into a pipe or channel that this thread
//! reads as the parent, or the counting loop on a few threads. Not a pilot child: it would cost
//! an `exec`, and look to anyone watching like the run's own.

use std::io::{self, BufReader};
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use anyhow::anyhow;
use ipc_channel::ipc;
use timing::Stopwatch;

use super::Variant;
use crate::shm::Segment;
use crate::shm_lock::SharedLock;
use crate::steps::s1_channel::{self, ToParent};
use crate::steps::s2_pipe::{self, BUFFER, Flush, Frame, Frames, HEAD};
use crate::steps::s3_frame_buffers::FrameReader;
use crate::steps::s4_tuned_pipe::{self, filled_with};
use crate::steps::s5_locked_counter::{self, COUNTER, LEN, LOCK_AT};
use crate::steps::s6_atomic_counter;
use crate::steps::s8_shm_ring::Ring;

/// Messages in the ipc-channel pilot, at most (and at most [`PILOT_BYTES`] of payload).
pub const PILOT_MESSAGES: u64 = 2_000;
/// Bytes a pipe pilot moves, at most (and at most 20 000 frames).
pub const PILOT_BYTES: usize = 2 << 20;
/// Increments per thread in a counter pilot: about a millisecond's work.
pub const PILOT_INCREMENTS: u64 = 200_000;
/// The same with the lock, each increment being dearer.
pub const PILOT_LOCKED_INCREMENTS: u64 = 50_000;
/// Times each pilot runs; the fastest counts, since a pilot this short can lose most of its
/// time to one preemption on a busy machine.
const RUNS: usize = 3;

/// The shortest of [`RUNS`] runs of `pilot`.
pub fn fastest(mut pilot: impl FnMut() -> anyhow::Result<Duration>) -> anyhow::Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..RUNS {
        best = best.min(pilot()?);
    }
    Ok(best)
}

/// Step 1's child loop on a thread, the parent's receive on this one, over one channel.
pub fn channel_pilot(messages: u64, bytes: usize) -> anyhow::Result<Duration> {
    let (tx, rx) = ipc::channel::<ToParent>()?;
    let (result, took) = Stopwatch::time(|| {
        thread::scope(|s| {
            let sender = s.spawn(move || s1_channel::send_messages(&tx, messages, bytes));
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
pub fn pipe_pilot(variant: Variant, frames: u64, bytes: usize) -> anyhow::Result<Duration> {
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

/// Step 8's writer on a thread, its reader on this one, over one ring in a segment.
pub fn ring_pilot(messages: u64, bytes: usize) -> anyhow::Result<Duration> {
    let segment = Segment::create("queue-ipc-pilot", Ring::shape(bytes).2)?;
    let (ring, writer) = (
        Ring::create(&segment, bytes)?,
        Ring::attach(&segment, bytes),
    );
    let done = &AtomicBool::new(false);
    let (result, took) = Stopwatch::time(|| {
        thread::scope(|s| {
            // The writer's side moves to its thread: a side is used by one thread only.
            let writing = s.spawn(move || {
                let sent = (0..messages).try_for_each(|seq| writer.send(seq, 0));
                // Release pairs with the reader's Acquire: a writer that failed is seen gone.
                done.store(true, Ordering::Release);
                sent
            });
            let gone = || done.load(Ordering::Acquire);
            let mut read = 0;
            let intact = |read: u64| {
                move |f: &Frame<'_>| f.seq == read && filled_with(f.payload, read as u8)
            };
            while read < messages && ring.receive(gone, intact(read))? == Some(true) {
                read += 1;
            }
            // A reader that stopped early closes the ring, so the writer fails, not hangs.
            ring.close()?;
            writing
                .join()
                .map_err(|_| anyhow!("the pilot's writer panicked"))??;
            anyhow::ensure!(read == messages, "the pilot's ring broke");
            anyhow::Ok(())
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
pub fn count_pilot(locked: bool, threads: usize, increments: u64) -> anyhow::Result<Duration> {
    let segment = Segment::create("queue-ipc-pilot", LEN)?;
    let lock = if locked {
        Some(SharedLock::create(&segment, LOCK_AT)?)
    } else {
        None
    };
    let counter = &segment.words()[COUNTER];
    // All start at once, as the children do at the starting gun, so they contend as they will.
    let gun = Barrier::new(threads + 1);
    thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    gun.wait();
                    match &lock {
                        Some(lock) => s5_locked_counter::count(lock, counter, increments),
                        None => {
                            s6_atomic_counter::count(counter, increments);
                            Ok(())
                        }
                    }
                })
            })
            .collect();
        let watch = Stopwatch::start();
        gun.wait();
        for handle in handles {
            handle
                .join()
                .map_err(|_| anyhow!("a pilot thread panicked"))??;
        }
        Ok(watch.elapsed())
    })
}
