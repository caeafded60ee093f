//! When a worker process stops: on SIGINT or SIGTERM, or when the demo that started it is gone.
//! A flag every part of the worker can wait on (each apalis worker the supervisor starts, each
//! backoff between them), rather than one future that only the first could consume.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// What the demo fails with when the user pressed Ctrl-C: the binary exits with status 130,
/// as a shell reports a program that SIGINT ended, rather than 1 (a failure) or 2 (bad input).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

/// Set once on SIGINT, SIGTERM, or when the parent that started us is gone; every apalis
/// worker the supervisor starts, and every wait between them, ends on it.
#[derive(Debug, Clone)]
pub struct Stop {
    set: watch::Receiver<bool>,
    /// Whether it was SIGINT (Ctrl-C), for the exit status: 130 then, 0 on SIGTERM.
    interrupted: Arc<AtomicBool>,
}

impl Stop {
    /// Starts watching the signals (and `parent_pid`, if given) on the current runtime.
    pub fn on_signals(parent_pid: Option<u32>) -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let (set, watched) = watch::channel(false);
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let interrupted = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&interrupted);
        tokio::spawn(async move {
            tokio::select! {
                // Relaxed: the channel's send below publishes it to whoever wakes on it.
                _ = interrupt.recv() => flag.store(true, Ordering::Relaxed),
                _ = terminate.recv() => {}
                () = orphaned(parent_pid) => {}
            }
            // Nobody listening any more is fine: the worker is already on its way out.
            let _ = set.send(true);
        });
        Ok(Self {
            set: watched,
            interrupted,
        })
    }

    /// Whether it was set by SIGINT (Ctrl-C).
    pub fn interrupted(&self) -> bool {
        // Relaxed: read after the worker has stopped on the flag, which the send published.
        self.is_set() && self.interrupted.load(Ordering::Relaxed)
    }

    /// Whether it is set.
    pub fn is_set(&self) -> bool {
        *self.set.borrow()
    }

    /// Completes once it is set.
    pub async fn wait(&self) {
        // An error means the sender is gone without setting the flag: it never will.
        if self.set.clone().wait_for(|set| *set).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// [`Stop::wait`] as an owned future, the shape `run_until` takes.
    pub async fn wait_owned(self) -> Result<(), std::io::Error> {
        self.wait().await;
        Ok(())
    }
}

/// Completes when `parent_pid` is given and is no longer our parent; never otherwise.
async fn orphaned(parent_pid: Option<u32>) {
    let Some(parent) = parent_pid else {
        return std::future::pending().await;
    };
    // Polling getppid, not Linux's PR_SET_PDEATHSIG: a re-executed worker can ask for that
    // signal itself, safely, at its start (`prctl`, no code between fork and exec), but the
    // kernel sends it when the parent *thread* that started the worker ends, not the parent
    // process: a demo that started workers from a short-lived thread would lose them while it
    // runs on. getppid changes only when the parent process is gone, and works beyond Linux.
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if nix::unistd::getppid().as_raw() as u32 != parent {
            return;
        }
    }
}
