//! Times each step and builds its row: wall time, rates, latency percentiles for the streams,
//! the checked numbers, and a typed outcome for the verdicts.
//!
//! Every clock starts once the children are started and ready (connected, or attached to the
//! segment): process start-up is not what the lesson measures. Where a latency must be recorded
//! per message, the loop is here, beside the step it instruments: the same calls, with the clock
//! read around them.

use timing::{Mechanism, Row};

use crate::LESSON;
use crate::process::Worker;
use crate::steps::s2_pipe::Flush;
use crate::steps::{Counted, Streamed};

mod estimate;
mod pilot;
mod shared;
mod streams;

pub use estimate::check_lengths;
pub use streams::check_temp_dir;

/// The variants, as `--variant` and the rows spell them, in reading order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// Typed messages through `ipc-channel` (the `Queue`; step 1).
    IpcChannel,
    /// Length-prefixed frames through a pipe, 64 KiB buffers (the `Pipe`; step 2).
    Pipe,
    /// The same frames, one `write` per message, as Python's `send_bytes` (step 2).
    PipePerMessage,
    /// The pipe with hand-tuned buffers and one frame in 16 timed (steps 3 and 4).
    PipeTuned,
    /// Children adding to a counter under a lock in shared memory (the shared `Value`; step 5).
    ShmCounterLocked,
    /// Children adding to one `AtomicU64` in shared memory, no lock (step 6).
    ShmCounter,
    /// A child filling an array in shared memory, checked by the parent (the `Array`; step 7).
    ShmArray,
    /// A child streaming messages through a ring of slots in shared memory (step 8).
    ShmRing,
}

impl Variant {
    /// The name `--variant` and the rows use.
    pub fn name(self) -> &'static str {
        match self {
            Variant::IpcChannel => "ipc-channel",
            Variant::Pipe => "pipe",
            Variant::PipePerMessage => "pipe-per-message",
            Variant::PipeTuned => "pipe-tuned",
            Variant::ShmCounterLocked => "shm-counter-locked",
            Variant::ShmCounter => "shm-counter",
            Variant::ShmArray => "shm-array",
            Variant::ShmRing => "shm-ring",
        }
    }
}

/// The sizes a run was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Messages each stream's child sends.
    pub messages: u64,
    /// Payload bytes per message (ipc-channel, pipes, shm-ring).
    pub bytes: usize,
    /// Increments per counting child.
    pub increments: u64,
    /// Counting children.
    pub children: usize,
    /// Words in the shared array.
    pub elements: u64,
}

/// A step's row, and what the step returned, for the verdicts to read.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The row printed in the table and as JSON.
    pub row: Row,
    /// What the step counted, typed.
    pub outcome: Outcome,
}

/// What each step counted.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Steps 1, 2, 4 and 8: messages sent and received.
    Stream(Streamed),
    /// Steps 5 and 6: the counter against `children * increments`.
    Counter(Counted),
    /// Step 7: the array's sum against the closed form, and how fast the parent read it.
    Array(ArrayRead),
}

/// What the parent found reading step 7's shared array, and how fast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArrayRead {
    /// The closed form of the sum.
    pub expected: u64,
    /// The sum read.
    pub sum: u64,
    /// Elements with `a[i] != i`.
    pub wrong: u64,
    /// Bytes per second of the parent's checking pass.
    pub read_bytes_per_s: f64,
    /// Bytes per second of a `memcpy` of the same size in the same run (if the child
    /// succeeded: a failed run's speed means nothing).
    pub memcpy_bytes_per_s: Option<f64>,
}

/// Runs one variant at `sizes` and measures it.
pub fn run(variant: Variant, worker: &Worker, sizes: Sizes) -> anyhow::Result<Measured> {
    let Sizes {
        messages, bytes, ..
    } = sizes;
    match variant {
        Variant::IpcChannel => streams::ipc_channel(worker, messages, bytes),
        Variant::Pipe => streams::pipe(worker, messages, bytes, Flush::WhenFull),
        Variant::PipePerMessage => streams::pipe(worker, messages, bytes, Flush::EachMessage),
        Variant::PipeTuned => streams::pipe_tuned(worker, messages, bytes),
        Variant::ShmCounterLocked | Variant::ShmCounter => {
            shared::counter(variant, worker, sizes.children, sizes.increments)
        }
        Variant::ShmArray => shared::array(worker, sizes.elements),
        Variant::ShmRing => streams::shm_ring(worker, messages, bytes),
    }
}

/// What the table's columns mean in this lesson.
pub const LEGEND: [&str; 2] = [
    "p50/p99/max: from the child's send to the parent's receive of a message, mostly time spent \
     queued behind earlier ones (pipe-tuned: 1 frame in 16 timed)",
    "items: messages (ipc-channel, pipes, shm-ring), increments (counters), elements (shm-array, \
     whose result is their sum, checked against n(n-1)/2)",
];

/// A row of `variant`, with its mechanism: streams are processes talking through pipes or
/// sockets, the rest share memory.
fn row(variant: Variant) -> Row {
    let mechanism = match variant {
        Variant::IpcChannel | Variant::Pipe | Variant::PipePerMessage | Variant::PipeTuned => {
            Mechanism::Processes
        }
        Variant::ShmCounterLocked | Variant::ShmCounter | Variant::ShmArray | Variant::ShmRing => {
            Mechanism::SharedMemory
        }
    };
    Row::new(LESSON, variant.name()).mechanism(mechanism)
}

/// The note of a stream that fell short: "child 41 killed by SIGKILL: received 500 of 2 000
/// messages".
pub fn shortfall(streamed: &Streamed) -> String {
    let cause = streamed.failure.as_deref().unwrap_or(
        "a message out of order or damaged stopped the count, though the child ended well",
    );
    format!(
        "{cause}: received {} of {} messages",
        timing::fmt_count(streamed.received),
        timing::fmt_count(streamed.sent)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shortfall_names_the_child_and_the_count() {
        let streamed = Streamed {
            sent: 2000,
            received: 500,
            failure: Some("child 41 killed by SIGKILL".into()),
        };
        assert_eq!(
            shortfall(&streamed),
            "child 41 killed by SIGKILL: received 500 of 2 000 messages"
        );
    }

    #[test]
    fn every_variant_has_a_mechanism_and_its_own_name() {
        use clap::ValueEnum as _;
        for variant in Variant::value_variants() {
            let row = row(*variant);
            assert!(row.mechanism.is_some());
            let parsed = Variant::from_str(variant.name(), false).unwrap();
            assert_eq!(parsed, *variant);
        }
    }
}
