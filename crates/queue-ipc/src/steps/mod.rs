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
