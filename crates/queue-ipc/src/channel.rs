//! `ipc-channel`: the `multiprocessing.Queue` of Rust, typed messages between processes.
//!
//! The parent opens an `IpcOneShotServer` (a Unix socket in a temporary directory), passes its
//! name to the child on the command line, and the child connects once and sends every message
//! on that connection. The parent never holds a sender of the channel it reads: while any
//! sender lives in the reading process, `recv` cannot report that the writer died (ipc-channel
//! issue #281), and a one-shot server is used once only (#381).

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use ipc_channel::ipc::{IpcOneShotServer, IpcReceiver, IpcSender};
use serde::{Deserialize, Serialize};
use timing::{Latencies, Row, Stopwatch};

use crate::child::die_now;
use crate::process::{ChildGuard, Worker, shortfall};
use crate::{LESSON, Variant, WorkerArgs, monotonic_ns};

/// What the child sends: first a hello (so the parent's clock starts once the stream is up),
/// then the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToParent {
    /// The connection is up; `pid` is the sender's (0 when the parent unblocks its own accept).
    Hello {
        /// The sending process.
        pid: u32,
    },
    /// One message of the stream.
    Message(Message),
}

/// One message: the small struct a `Queue` would carry as a pickled tuple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// 0, 1, 2, ...: the parent checks the order.
    pub seq: u64,
    /// When the child sent it, in `CLOCK_MONOTONIC` nanoseconds.
    pub sent_ns: u64,
}

/// The `ipc-channel` variant: a child sends `messages` typed messages, the parent receives and
/// checks them all, in order, with their latency. A child that dies mid-stream gives a row that
/// says how many arrived of how many (and so fails the run), never a hang.
pub fn ipc_channel(
    worker: &Worker,
    messages: u64,
    child_dies_after: Option<u64>,
) -> anyhow::Result<Row> {
    check_temp_dir()?;
    let (server, name) =
        IpcOneShotServer::<ToParent>::new().context("creating the ipc-channel server")?;
    let args = WorkerArgs::command_line(Variant::IpcChannel, &name, messages, 0, child_dies_after);
    let mut child = worker.spawn(&args)?;
    let receiver = accept(server, &name, &child)?;

    let mut latencies = Latencies::new();
    let mut received = 0;
    let watch = Stopwatch::start();
    while let Some(rx) = &receiver {
        if received == messages {
            break;
        }
        // `recv` returns an error once the child's end is closed, which the kernel does when the
        // child dies, however it dies: no timeout is needed to notice a `kill -9`.
        match rx.recv() {
            Ok(ToParent::Message(m)) if m.seq == received => {
                latencies.record_ns(monotonic_ns().saturating_sub(m.sent_ns));
                received += 1;
            }
            Ok(_) | Err(_) => break,
        }
    }
    let wall = watch.elapsed();
    // Drop the receiver before waiting: a child still sending (after a wrong message) gets an
    // error instead of blocking forever on a full socket.
    drop(receiver);
    let status = child.wait()?;

    let note = if received < messages || !status.success() {
        shortfall(child.pid(), status, received, messages)
    } else {
        format!("{} messages, in order", timing::fmt_count(received))
    };
    Ok(Row::new(LESSON, Variant::IpcChannel.name())
        .items(received)
        .check(messages, received)
        .require(status.success())
        .wall(wall)
        .latencies(&latencies)
        .note(note))
}

/// The one-shot server is a Unix socket in a new directory under `TMPDIR`, and ipc-channel 0.23
/// panics (an assertion on the error kind) when it cannot create it: check first, and make it the
/// user's error (exit 2) with a line that says what to fix.
fn check_temp_dir() -> anyhow::Result<()> {
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

/// Waits for the child to connect, or to die first. `accept` blocks with no timeout, so it runs
/// on a thread while this one watches the child; if the child exits without connecting, the
/// parent connects to its own server to unblock `accept` (there is no other way to cancel it).
/// `None` means the child never connected.
fn accept(
    server: IpcOneShotServer<ToParent>,
    name: &str,
    child: &ChildGuard,
) -> anyhow::Result<Option<IpcReceiver<ToParent>>> {
    let (tx, rx) = mpsc::channel();
    let acceptor = std::thread::spawn(move || {
        // The main thread waits for this send; if it hung up, nobody needs the result.
        let _ = tx.send(server.accept());
    });
    let mut unblocked = false;
    let accepted = loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(accepted) => break accepted.ok(),
            Err(RecvTimeoutError::Timeout) if !unblocked && child.has_exited() => {
                // The server may have been consumed meanwhile; then connecting fails: fine.
                if let Ok(us) = IpcSender::<ToParent>::connect(name.to_string()) {
                    let _ = us.send(ToParent::Hello { pid: 0 });
                }
                unblocked = true;
            }
            Err(RecvTimeoutError::Timeout) => {}
            // The thread ended without sending: it panicked, and `join` below says so.
            Err(RecvTimeoutError::Disconnected) => break None,
        }
    };
    acceptor
        .join()
        .map_err(|_| anyhow!("the thread accepting the child's connection panicked"))?;
    Ok(match accepted {
        Some((receiver, ToParent::Hello { pid })) if pid == child.pid() => Some(receiver),
        _ => None,
    })
}

/// The child's side: connect once, say hello, send `messages` messages stamped with the time.
pub(crate) fn child(server: &str, messages: u64, dies_after: Option<u64>) -> anyhow::Result<()> {
    if dies_after == Some(0) {
        die_now();
    }
    let tx = IpcSender::<ToParent>::connect(server.to_string())
        .with_context(|| format!("connecting to {server}"))?;
    tx.send(ToParent::Hello {
        pid: std::process::id(),
    })?;
    for seq in 0..messages {
        if dies_after == Some(seq) {
            die_now();
        }
        let sent_ns = monotonic_ns();
        tx.send(ToParent::Message(Message { seq, sent_ns }))
            .context("sending to the parent")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ipc_channel::ipc;

    use super::*;

    #[test]
    fn messages_cross_a_channel_typed_and_in_order() {
        let (tx, rx) = ipc::channel::<ToParent>().unwrap();
        for seq in 0..3 {
            tx.send(ToParent::Message(Message { seq, sent_ns: 7 }))
                .unwrap();
        }
        drop(tx);
        for seq in 0..3 {
            assert_eq!(
                rx.recv().unwrap(),
                ToParent::Message(Message { seq, sent_ns: 7 })
            );
        }
        // With every sender gone, the receiver reports it instead of blocking.
        assert!(rx.recv().is_err());
    }
}
