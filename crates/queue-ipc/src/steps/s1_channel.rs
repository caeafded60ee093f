//! Step 1: `ipc-channel`, the `multiprocessing.Queue` of Rust: typed messages from a child.
//!
//! The parent opens an `IpcOneShotServer` (a Unix socket under `TMPDIR`) and passes its name on
//! the child's command line; the child connects once and sends every message, a `serde` value
//! where Python pickles a tuple, on that connection. Each message carries a payload the child
//! fills with its sequence number's low byte, as step 2's frames do, so the parent catches a
//! message damaged or out of order, not only a lost one. The parent never holds a sender of the
//! channel it reads: while one lives in the reading process, `recv` cannot report that the
//! writer died (ipc-channel issue #281); and a one-shot server is used once only (#381).

// ANCHOR: pattern
use std::process::Command;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use ipc_channel::ipc::{IpcOneShotServer, IpcReceiver, IpcSender};
use serde::{Deserialize, Serialize};

use super::{Error, Streamed};
use crate::process::{ChildGuard, WORKER_FLAG, Worker, monotonic_ns};

/// What the child sends: a hello (so the parent knows the stream is up), then the messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToParent {
    /// The connection is up; the sender's pid (0 when the parent unblocks its own accept).
    Hello(u32),
    /// One message of the stream.
    Message(Message),
}

/// One message: what a `Queue` would carry as a pickled tuple.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// 0, 1, 2, ...: the parent checks the order.
    pub seq: u64,
    /// When the child sent it, in `CLOCK_MONOTONIC` nanoseconds.
    pub sent_ns: u64,
    /// `--bytes` bytes, each `seq as u8`. Sent as one byte string, not serde's default for a
    /// `Vec<u8>` (a sequence, encoded and decoded a byte at a time): see [`super::as_bytes`].
    #[serde(with = "super::as_bytes")]
    pub payload: Vec<u8>,
}

/// Whether `message` is the one expected at `seq`: its number, its length, every payload byte.
pub fn intact(message: &Message, seq: u64, bytes: usize) -> bool {
    let payload = &message.payload;
    message.seq == seq && payload.len() == bytes && payload.iter().all(|&b| b == seq as u8)
}

/// Starts a child that sends `messages` messages of `bytes` payload bytes, and waits until it
/// has connected and said hello. The receiver is `None` if the child died first.
pub fn start(
    worker: &Worker,
    messages: u64,
    bytes: usize,
) -> Result<(ChildGuard, Option<IpcReceiver<ToParent>>), Error> {
    let (server, name) = IpcOneShotServer::<ToParent>::new()?;
    let mut command = Command::new(worker.path());
    let (count, size) = (messages.to_string(), bytes.to_string());
    command.args([WORKER_FLAG, "ipc-channel"]);
    command.args(["--name", &name, "--count", &count, "--bytes", &size]);
    let child = ChildGuard::spawn(&mut command)?;
    let receiver = accept(server, &name, &child)?;
    Ok((child, receiver))
}

/// The whole step: a child sends `messages` messages, the parent counts those that arrive whole
/// and in order. A child that dies mid-stream gives a short count, never a hang: `recv` fails
/// as soon as the kernel closes the child's socket, which it does however the child dies.
pub fn run(worker: &Worker, messages: u64, bytes: usize) -> Result<Streamed, Error> {
    let (mut child, receiver) = start(worker, messages, bytes)?;
    let mut received = 0;
    while let Some(rx) = receiver.as_ref().filter(|_| received < messages) {
        match rx.recv() {
            Ok(ToParent::Message(m)) if intact(&m, received, bytes) => received += 1,
            _ => break,
        }
    }
    // Dropped before the wait, so a child still sending gets an error, not a full socket.
    drop(receiver);
    let failure = child.failure()?;
    Ok(Streamed {
        sent: messages,
        received,
        failure,
    })
}

/// Waits for the child to connect, or to die first. `accept` blocks with no timeout, so it runs
/// on a thread while this one watches the child; if the child exits without connecting, the
/// parent connects to its own server to unblock `accept` (there is no other way to cancel it).
fn accept(
    server: IpcOneShotServer<ToParent>,
    name: &str,
    child: &ChildGuard,
) -> Result<Option<IpcReceiver<ToParent>>, Error> {
    let (tx, rx) = mpsc::channel();
    // The main thread waits for this send; if it hung up, nobody needs the result.
    let acceptor = std::thread::spawn(move || tx.send(server.accept()).ok());
    let mut unblocked = false;
    let accepted = loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(accepted) => break accepted.ok(),
            Err(RecvTimeoutError::Timeout) if !unblocked && child.has_exited() => {
                // The server may have been consumed meanwhile; then connecting fails: fine.
                if let Ok(us) = IpcSender::<ToParent>::connect(name.to_string()) {
                    let _ = us.send(ToParent::Hello(0));
                }
                unblocked = true;
            }
            Err(RecvTimeoutError::Timeout) => {}
            // The thread ended without sending: it panicked, and `join` below says so.
            Err(RecvTimeoutError::Disconnected) => break None,
        }
    };
    let panicked = |_| std::io::Error::other("the thread accepting the child panicked");
    acceptor.join().map_err(panicked)?;
    Ok(match accepted {
        Some((receiver, ToParent::Hello(pid))) if pid == child.pid() => Some(receiver),
        _ => None,
    })
}

/// The child's side: connect once, say hello, send the messages.
pub fn child(server: &str, messages: u64, bytes: usize) -> Result<(), Error> {
    let tx = IpcSender::<ToParent>::connect(server.to_string())?;
    tx.send(ToParent::Hello(std::process::id()))?;
    send_messages(&tx, messages, bytes)
}

/// The child's loop: `messages` messages in order, each stamped with the time it was sent.
/// `send` takes the message by value, so each gets its own payload, as each of Python's
/// `put` calls pickles a new tuple.
pub fn send_messages(tx: &IpcSender<ToParent>, messages: u64, bytes: usize) -> Result<(), Error> {
    for seq in 0..messages {
        let payload = vec![seq as u8; bytes];
        let sent_ns = monotonic_ns();
        tx.send(ToParent::Message(Message {
            seq,
            sent_ns,
            payload,
        }))?;
    }
    Ok(())
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use ipc_channel::ipc;

    use super::*;

    #[test]
    fn messages_cross_a_channel_typed_and_in_order() {
        let (tx, rx) = ipc::channel::<ToParent>().unwrap();
        send_messages(&tx, 3, 5).unwrap();
        drop(tx);
        for seq in 0..3 {
            assert!(matches!(rx.recv().unwrap(), ToParent::Message(m) if intact(&m, seq, 5)));
        }
        // With every sender gone, the receiver reports it instead of blocking.
        assert!(rx.recv().is_err());
    }

    #[test]
    fn a_damaged_or_short_payload_is_not_intact() {
        let mut message = Message {
            seq: 2,
            sent_ns: 1,
            payload: vec![2; 4],
        };
        assert!(intact(&message, 2, 4) && !intact(&message, 2, 5) && !intact(&message, 1, 4));
        message.payload[3] = 7;
        assert!(!intact(&message, 2, 4));
    }
}
