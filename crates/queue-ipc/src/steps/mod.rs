//! The lesson, one step a file, in reading order. Each step is the pattern whole: the child it
//! re-executes is started in its own body, the child's side is beside the parent's, and it
//! returns what it counted. Timing lives in [`crate::measure`], never here.
//!
//! 1. [`s1_channel`]: typed messages through `ipc-channel` (the `Queue`).
//! 2. [`s2_pipe`]: length-prefixed frames through a pipe, `BufWriter`/`read_exact` (the `Pipe`).
//! 3. [`s3_frame_buffers`]: frames built and decoded in place in one buffer per end.
//! 4. [`s4_tuned_pipe`]: step 2's pipe on step 3's buffers, one frame in 16 timed.
//! 5. [`s5_locked_counter`]: a counter and a lock in shared memory (the shared `Value`).
//! 6. [`s6_atomic_counter`]: the same counter, one `fetch_add`, no lock.
//! 7. [`s7_shared_array`]: an array in shared memory, filled by a child (the shared `Array`).
//! 8. [`s8_shm_ring`]: messages through a ring of slots in shared memory.

use std::io;

use ipc_channel::IpcError;

use crate::shm::ShmError;

pub mod s1_channel;
pub mod s2_pipe;
pub mod s3_frame_buffers;
pub mod s4_tuned_pipe;
pub mod s5_locked_counter;
pub mod s6_atomic_counter;
pub mod s7_shared_array;
pub mod s8_shm_ring;

// ANCHOR: streamed
/// What can stop a step: starting or talking to its child, or its shared memory.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A pipe, a process or a socket failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The shared-memory segment could not be created or attached.
    #[error(transparent)]
    Shm(#[from] ShmError),
    /// ipc-channel could not send or decode a message.
    #[error("ipc-channel: {0}")]
    Ipc(#[from] IpcError),
}

/// What a stream of messages from one child came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Streamed {
    /// Messages the child was asked to send.
    pub sent: u64,
    /// Messages that arrived whole and in order, counted up to the first that did not.
    pub received: u64,
    /// How the child ended, when it did not end well ("child 41 killed by SIGKILL").
    pub failure: Option<String>,
}

impl Streamed {
    /// What a stream of `sent` messages came to.
    pub fn new(sent: u64, received: u64, failure: Option<String>) -> Self {
        Self {
            sent,
            received,
            failure,
        }
    }
}
// ANCHOR_END: streamed

// ANCHOR: counted
/// What children adding to one shared counter came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// `children * increments`: what the counter must read.
    pub expected: u64,
    /// What it reads once every child has exited.
    pub total: u64,
    /// How each failed child ended; the first failure stops the others.
    pub failures: Vec<String>,
    /// Times a process found the lock's holder dead and took the lock over (step 5).
    pub takeovers: u64,
}
// ANCHOR_END: counted

/// A `Vec<u8>` as serde's byte string (`#[serde(with = "as_bytes")]`), where serde's default is
/// a sequence of `u8`s, which postcard (ipc-channel's format) writes and reads a byte at a time;
/// a byte string is one length and one copy. The `serde_bytes` crate does the same; these two
/// functions spare the dependency.
pub mod as_bytes {
    use std::fmt;

    use serde::de::{Deserializer, Visitor};
    use serde::ser::Serializer;

    /// Writes `bytes` as one byte string.
    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    /// Reads a byte string into a `Vec<u8>`.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        struct Bytes;
        impl Visitor<'_> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
                Ok(bytes.to_vec())
            }
            fn visit_byte_buf<E>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(bytes)
            }
        }
        deserializer.deserialize_byte_buf(Bytes)
    }
}
