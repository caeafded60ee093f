//! Step 2, deliberately stalls the runtime: each task awaits a response, then does a CPU-bound
//! step right there, on the runtime's worker thread.
//!
//! Since step 1: every task has CPU work after its wait. It compiles and its answers are right;
//! what goes wrong is everything else on the runtime, which the heartbeat in
//! [`crate::measure`] shows.

// ANCHOR: pattern
use std::hint::black_box;
use std::thread::ThreadId;

use tokio::task::JoinSet;

use super::s1_io_gather::{fetch, item_url};
use super::{StepError, panicked};

/// What one task hands back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    /// The task's item number, as the task knew it before any I/O.
    pub item: u64,
    /// The seed its I/O step returned (the item number, read back from the body).
    pub seed: u64,
    /// Its CPU step's answer.
    pub sum: u64,
    /// The thread that ran the CPU step: a runtime worker, a blocking thread or a rayon thread.
    pub thread: ThreadId,
}

/// What the tasks of a mixed step returned: the answers, and the failures.
#[derive(Debug, Default)]
pub struct Mixed {
    /// Every task that got an answer.
    pub done: Vec<Done>,
    /// Why each of the others got none.
    pub failed: Vec<StepError>,
}

/// The I/O step: fetch an item and read its number back from the body's first line.
pub async fn fetch_seed(client: &reqwest::Client, url: &str) -> Result<u64, StepError> {
    let body = fetch(client, url).await?;
    let text = String::from_utf8_lossy(&body);
    let first = text.lines().next().unwrap_or_default();
    first
        .strip_prefix("item ")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| StepError::NoItemNumber(first.to_string()))
}

/// The CPU step: the sum of `k²` for `k` in `start..start + work`, wrapping at 2⁶⁴, one term
/// at a time.
///
/// `black_box` keeps the optimiser from replacing the loop with a formula: LLVM recognises a sum
/// of a polynomial over a range, which would make the "CPU-bound" step take nanoseconds whatever
/// `work` is.
pub fn sum_of_squares(start: u64, work: u64) -> u64 {
    let mut sum = 0u64;
    for k in start..start + work {
        let k = black_box(k);
        sum = sum.wrapping_add(k.wrapping_mul(k));
    }
    sum
}

/// The CPU step, and the thread that ran it.
pub fn cpu_step(seed: u64, work: u64) -> (u64, ThreadId) {
    (sum_of_squares(seed, work), std::thread::current().id())
}

/// Runs `tasks` tasks that each fetch an item, then compute from it *inline*: the mistake.
///
/// Nothing stops it compiling: a long computation is just code between two `.await`s. But a
/// task gives its worker back only at an `.await`, so for the whole step that worker polls
/// nothing else. With every worker inside a step, no task runs at all, timers and sockets
/// included. And it is worse than one step long: a worker looks at the timers only between
/// polls, and mostly when it runs out of ready tasks, so while ready tasks full of CPU work
/// keep coming, a timer can wait for the whole CPU phase. It is Python's CPU work on the event
/// loop; only the number of loops (workers) differs.
pub async fn run(
    client: &reqwest::Client,
    base: &str,
    tasks: u64,
    work: u64,
) -> Result<Mixed, StepError> {
    let mut set = JoinSet::new();
    for item in 0..tasks {
        let (client, url) = (client.clone(), item_url(base, item));
        set.spawn(async move {
            let seed = fetch_seed(&client, &url).await?;
            // The stall: no `.await` until the sum is done.
            let (sum, thread) = cpu_step(seed, work);
            Ok(Done {
                item,
                seed,
                sum,
                thread,
            })
        });
    }
    join_all("cpu-inline", set).await
}

/// Waits for every task of a mixed step: answers and failures sorted apart, a panic the step's
/// error. Steps 3 and 4 end the same way.
pub async fn join_all(
    step: &'static str,
    mut set: JoinSet<Result<Done, StepError>>,
) -> Result<Mixed, StepError> {
    let mut mixed = Mixed::default();
    while let Some(joined) = set.join_next().await {
        match joined.map_err(|err| panicked(step, err))? {
            Ok(done) => mixed.done.push(done),
            Err(err) => mixed.failed.push(err),
        }
    }
    Ok(mixed)
}
// ANCHOR_END: pattern
