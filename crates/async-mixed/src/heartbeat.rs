//! A task that wants to run every millisecond and records how late each tick was: the
//! runtime's pulse. While the runtime's worker threads are free, ticks are a few hundred
//! microseconds late at most; while CPU work occupies every worker, nothing polls the heartbeat
//! (or any other task) and its lateness grows to the length of the stall.

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
    /// Spawns the heartbeat onto the current runtime (call it inside the runtime).
    pub fn start() -> Self {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(beat(stopped));
        Self { stop, task }
    }

    /// Stops the heartbeat and returns the lateness of every tick.
    pub async fn stop(self) -> anyhow::Result<Latencies> {
        // An error means the task is gone already; awaiting it below reports why.
        let _ = self.stop.send(());
        self.task.await.context("the heartbeat task failed")
    }
}

async fn beat(mut stopped: oneshot::Receiver<()>) -> Latencies {
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

    #[test]
    fn an_idle_runtime_keeps_the_heartbeat_on_time() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap();
        let lateness = runtime.block_on(async {
            let heartbeat = Heartbeat::start();
            tokio::time::sleep(Duration::from_millis(30)).await;
            heartbeat.stop().await.unwrap()
        });
        assert!(lateness.count() >= 5, "{} ticks", lateness.count());
    }

    #[test]
    fn a_blocked_worker_shows_as_lateness() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap();
        let lateness = runtime.block_on(async {
            let heartbeat = Heartbeat::start();
            tokio::time::sleep(Duration::from_millis(5)).await;
            // Block the only worker: the mistake the lesson shows.
            tokio::spawn(async { std::thread::sleep(Duration::from_millis(40)) })
                .await
                .unwrap();
            heartbeat.stop().await.unwrap()
        });
        // Burst mode records each missed tick, the oldest at least ~40 ms late.
        assert!(lateness.max_ns() >= 30_000_000, "{}", lateness.max_ns());
    }
}
