//! Threads: start them, name them, get their results back, pause and stop them, and use them to
//! wait for many slow network replies at once. A thread costs tens of microseconds to start:
//! nothing beside a network wait, a great deal beside a microsecond of work.
//!
//! # The Python original
//!
//! The `threading` tutorial starts two threads, one printing numbers and one printing letters,
//! with `threading.Thread(target=...)`, `start()` and `join()`; subclasses `Thread` and
//! overrides `run()`; pauses, resumes and stops a worker; and fetches a list of URLs one after
//! another and then on threads, to show that threads help when the work is waiting on I/O.
//! `examples/python/threads_basic.py` runs those programs, completed so they run, and
//! `just compare` shows them beside this lesson. Rust differs in three ways worth seeing:
//! - a thread hands its result back through [`JoinHandle::join`](std::thread::JoinHandle::join)
//!   (no shared list to append to), and a panic in it comes back as an error instead of a
//!   traceback printed on stderr and forgotten;
//! - [`std::thread::scope`] lets threads borrow the caller's local data, checked at compile time,
//!   so no `Arc` and no copy;
//! - there is no GIL: the summing threads really run at once, and a thread waiting on a socket
//!   costs no core, so twenty of them overlap twenty waits even on two cores.
//!
//! # What to watch for
//!
//! - Every row checks its own result: the sums against the closed form `n(n+1)/2`, the fetched
//!   bytes against what the server sends, the controlled worker's units against its job.
//! - `control`: no unit of work while paused, and the worker ends by itself soon after it is
//!   asked to stop (it cannot be killed, in Rust or in Python).
//! - The io rows: p50/p99/max are each request's latency, close to the server's delay; the
//!   verdict gives the speedup of one thread per request and of a bounded pool over fetching
//!   one page after another, beside the ideal (the number of requests in flight at once).
//!
//! # Running it
//!
//! ```text
//! cargo run --release -p threads-basic
//! cargo run --release -p threads-basic -- --variant io-sequential --variant io-pool --workers 8
//! python3 examples/python/threads_basic.py
//! cargo run --example threads_basic
//! cargo bench -p threads-basic --bench spawn
//! ```
//!
//! The last measures what starting and joining a thread costs. Benchmark figures are in
//! `docs/results.md`.
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
//!
//! [`server`] is the slow site they fetch from; [`measure`] times each step and [`verdict`]
//! says what the numbers mean.

pub mod steps;

pub mod measure;
pub mod server;
pub mod verdict;

/// The lesson's name, as its binary and its JSON rows spell it.
pub const LESSON: &str = "threads-basic";
