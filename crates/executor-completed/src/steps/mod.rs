//! The executor, one step a file, in reading order. Each step adds to the same two executors
//! and is whole where it matters: its threads, channels and processes are started in its own
//! body. What is plumbing rather than pattern (the waiting line's lock, the pipe formats, the
//! feeder and reader threads of a worker process) lives in `crate::plumbing`, and each step
//! that uses it says so; what every step names (a task's id, handle, completion and error; the
//! demo's jobs) is in [`crate::task`] and [`crate::job`]. A step uses earlier steps and those
//! modules, never a later step. Timing lives in [`crate::measure`], never here.
//!
//! 1. [`s1_errors`]: a task's error or panic is a value, so its worker lives on.
//! 2. [`s2_submit`]: a pool of threads; `submit` returns a handle.
//! 3. [`s3_as_completed`]: results in the order tasks finish.
//! 4. [`s4_deadline_cancel`]: stop waiting at a deadline; cancel what has not started.
//! 5. [`s5_priority`]: where priority really lives: the line tasks wait in.
//! 6. [`s6_worker_process`]: tasks as data, run by this program re-executed as a worker.
//! 7. [`s7_process_pool`]: the same `submit` / `as_completed` over worker processes.

pub mod s1_errors;
pub mod s2_submit;
pub mod s3_as_completed;
pub mod s4_deadline_cancel;
pub mod s5_priority;
pub mod s6_worker_process;
pub mod s7_process_pool;
