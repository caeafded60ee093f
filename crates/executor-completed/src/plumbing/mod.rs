//! The parts of the two executors that are plumbing rather than the pattern: each step that
//! uses one names it and says what it does. None of them imports a step (what they share with
//! the steps is in `crate::task` and `crate::job`), so the steps read in order.
//!
//! - `queue`: the thread executor's waiting line, a `Mutex` and a `Condvar` around one line per
//!   priority level (step 2 takes from it, step 4 empties it, step 5 orders it);
//! - `wire`: the one-line text formats of a job and its reply on a worker process's pipes
//!   (steps 6 and 7);
//! - `feeder` and `reader`: the two parent threads of each worker process, which write jobs
//!   down its stdin and read replies from its stdout, and replace a worker that died (step 7,
//!   which hands the feeder the function that starts a worker).

pub(crate) mod feeder;
pub(crate) mod queue;
pub(crate) mod reader;
pub(crate) mod wire;
