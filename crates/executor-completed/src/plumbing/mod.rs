//! The parts of the two executors that are plumbing rather than the pattern: each step that
//! uses one names it and says what it does.
//!
//! - `queue`: the thread executor's waiting line, a `Mutex` and a `Condvar` around step 5's
//!   priority levels (step 1 takes from it, step 4 empties it, step 5 orders it);
//! - `wire`: the one-line text formats of a job and its reply on a worker process's pipes
//!   (steps 6 and 7);
//! - `feeder` and `reader`: the two parent threads of each worker process, which write jobs
//!   down its stdin and read replies from its stdout, and replace a worker that died (step 7).

pub(crate) mod feeder;
pub(crate) mod queue;
pub(crate) mod reader;
pub(crate) mod wire;
