//! A task that wants to run every millisecond and records how late each tick was: the
//! runtime's pulse. While a worker thread is free, a tick is late only by the time the kernel
//! takes to wake that worker; while CPU work occupies every worker, nothing polls the heartbeat
//! (or any other task) and its lateness grows to the length of the stall.
//!
//! It is the measuring instrument, not the pattern: the steps know nothing of it. It runs as
//! one more task on the step's runtime, started before the step and stopped after it.

use std::time::Duration;

use anyhow::Context as _;
use timing::Latencies;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// How often the heartbeat wants to run.
pub const PERIOD: Duration = Duration::from_millis(1);

/// A heartbeat task running on the current runtime.
#[derive(Debug)]
pub struct Heartbeat {
    /// Tells the task to stop and hand back its record.
    stop: oneshot::Sender<()>,
    /// The task, returning the lateness of every tick it saw.
    task: JoinHandle<Latencies>,
}

impl Heartbeat {
    /// Spawns the heartbeat onto the current runtime and returns once it has ticked for the
    /// first time, so whatever the caller starts next is watched from its first moment.
    ///
    /// Why wait, when spawning first usually means running first: "usually" is the scheduler's
    /// queue order, not a promise, and a heartbeat that first ran after a stall had begun would
    /// start its record late and miss that stall.
    pub async fn start() -> anyhow::Result<Self> {
        let (stop, stopped) = oneshot::channel();
        let (started, first_tick) = oneshot::channel();
        let task = tokio::spawn(beat(stopped, started));
        first_tick
            .await
            .context("the heartbeat task ended before its first tick")?;
        Ok(Self { stop, task })
    }

    /// Stops the heartbeat and returns the lateness of every tick.
    pub async fn stop(self) -> anyhow::Result<Latencies> {
        // An error means the task is gone already; awaiting it below reports why.
        let _ = self.stop.send(());
        self.task.await.context("the heartbeat task failed")
    }
}

async fn beat(mut stopped: oneshot::Receiver<()>, started: oneshot::Sender<()>) -> Latencies {
    let mut started = Some(started);
    let mut lateness = Latencies::new();
    let mut ticks = tokio::time::interval(PERIOD);
    // Burst (tokio's default, set here so the choice is visible): after a stall, every tick that
    // was due fires at once, each stamped with the instant it was *scheduled* for, so a 20 ms
    // stall records twenty samples, 20 ms late down to 1 ms late. That is what a steady stream
    // of one event per millisecond would have suffered. `Skip` or `Delay` would record a single
    // late tick per stall and drop the rest, so the percentiles would make stalls look rare
    // (the "coordinated omission" of load testing).
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut next_due = Instant::now();
    loop {
        tokio::select! {
            // `biased`: check for the stop first, so a burst of overdue ticks cannot keep the
            // heartbeat running after it was told to stop.
            biased;
            _ = &mut stopped => break,
            scheduled = ticks.tick() => {
                lateness.record(Instant::now().saturating_duration_since(scheduled));
                next_due = scheduled + PERIOD;
                if let Some(started) = started.take() {
                    // An error means `start` stopped waiting; there is nobody to tell.
                    let _ = started.send(());
                }
            }
        }
    }
    // Ticks that fell due but had not run yet when the stop came were held up by the same stall
    // as the others: count each as late as it is now, or the last stall would vanish from the
    // record just because the workload ended during it.
    let now = Instant::now();
    while next_due <= now {
        lateness.record(now - next_due);
        next_due += PERIOD;
    }
    lateness
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A runtime with a single worker, so one blocking task stalls everything on it.
    fn one_worker() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn an_idle_runtime_records_every_tick_due() {
        let lateness = one_worker().block_on(async {
            let heartbeat = Heartbeat::start().await.unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
            heartbeat.stop().await.unwrap()
        });
        // Every tick due in the 30 ms is recorded, late or not (the stop counts the overdue
        // ones), so at least 30 whatever the machine's speed.
        assert!(lateness.count() >= 30, "{} ticks", lateness.count());
    }

    /// How long the test blocks the runtime's only worker.
    const BLOCK: Duration = Duration::from_millis(40);

    #[test]
    fn a_blocked_worker_shows_as_lateness() {
        let lateness = one_worker().block_on(async {
            let heartbeat = Heartbeat::start().await.unwrap();
            // Block the only worker: the mistake the lesson shows.
            tokio::spawn(async { std::thread::sleep(BLOCK) })
                .await
                .unwrap();
            heartbeat.stop().await.unwrap()
        });
        // A bound from the order of events, not from timing: the heartbeat ticked before the
        // block began (`start` waited for it), so its next tick fell due at most one PERIOD
        // into the block; `sleep` never returns early, so that tick ran, or was counted at the
        // stop, at least BLOCK - PERIOD late. A slower machine only makes it later.
        let floor = (BLOCK - PERIOD).as_nanos() as u64;
        assert!(lateness.max_ns() >= floor, "{}", lateness.max_ns());
    }
}
