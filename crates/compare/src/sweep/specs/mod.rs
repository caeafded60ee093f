//! What each lesson sweeps, at which points, with which sizes, and which lines it draws.
//!
//! Sizes are picked so that one run of both sides at the largest point takes a few seconds on
//! two cores, and [`Spec::seconds`] says about how long: the ten-minute refusal trusts it.

mod cores;
mod tasks;

use super::{Lang, Series, Spec, Y};

/// Every lesson swept, in the order the tutorials teach them.
pub const SPECS: &[Spec] = &[
    tasks::THREADS_BASIC,
    cores::RACE_LOCK,
    cores::CPU_PROCESSES,
    cores::QUEUE_IPC,
    cores::POOL_BATCH,
    tasks::EXECUTOR_COMPLETED,
    tasks::ASYNC_MIXED,
    tasks::TASK_QUEUE,
];

/// A series of `lang`'s `variant` reading `y`, named `name` in the legend.
const fn line(name: &'static str, lang: Lang, variant: &'static str, y: Y) -> Series {
    Series {
        name,
        lang,
        variant,
        y,
    }
}

/// Messages at `bytes` each: 64 MiB in all, between 64 and 50 000 of them, so the small messages
/// are many enough to time and the large ones few enough to finish.
fn messages(bytes: u64) -> u64 {
    ((64 << 20) / bytes).clamp(64, 50_000)
}
