//! Threads: start them, name them, get their results back, pause and stop them, and use them to
//! wait for many slow network replies at once. A thread costs tens of microseconds to start:
//! nothing beside a network wait, a great deal beside a microsecond of work.
//!
//! # The steps, in reading order
//!
//! 1. [`steps::s1_hello`]: two threads started and joined.
//! 2. [`steps::s2_named`]: named threads handing their results back through `join`.
//! 3. [`steps::s3_job_trait`]: a `Job` trait in place of a `Thread` subclass.
//! 4. [`steps::s4_scoped`]: threads borrowing local data inside `thread::scope`.
//! 5. [`steps::s5_control`]: a worker paused, resumed and asked to stop.
//! 6. [`steps::s6_io_sequential`]: fetching pages one after another.
//! 7. [`steps::s7_io_thread_per_request`]: one thread per page.
//! 8. [`steps::s8_io_pool`]: a bounded pool of threads taking the next page.
//! 9. [`steps::s9_idle_threads`]: threads that only wait, all alive at once: what a thread costs.
//!
//! [`server`] is the slow site they fetch from; [`measure`] times each step and [`verdict`]
//! says what the numbers mean.
//!
//! Read: `book/src/threads-basic.md` (the chapter: the Python original, each step, the figures).
//! Copy: `examples/threads_basic.rs` (spawn and join, a result through `join`, a panic joined as
//! an error, scoped threads, a worker paused and stopped).
//! Run: `cargo run --release -p threads-basic`.

pub mod steps;

pub mod measure;
pub mod server;
pub mod verdict;

/// The lesson's name, as its binary and its JSON rows spell it.
pub const LESSON: &str = "threads-basic";
