//! The lesson, one step a file, in reading order. Each step is the pattern whole and returns
//! what it computed; the demo's timing and checking live in [`crate::measure`], never here.
//!
//! 1. [`s1_job`]: the job and its handler: idempotent, keyed by its task id.
//! 2. [`s2_producer`]: a producer pushing jobs, under ids it makes itself.
//! 3. [`s3_worker`]: a worker process pulling them: `WorkerBuilder` and a poll interval.
//! 4. [`s4_supervise`]: surviving broker faults: the worker restarted with backoff.
//! 5. [`s5_processes`]: several worker processes, a killed one replaced.

pub mod s1_job;
pub mod s2_producer;
pub mod s3_worker;
pub mod s4_supervise;
pub mod s5_processes;
