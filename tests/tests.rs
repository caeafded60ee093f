//! End-to-end tests: every lesson binary run as a user runs it, with `--json`, bad input and
//! faults. One test binary with a module per lesson keeps link time down.
//!
//! The binaries must be built first (`cargo build --workspace`): a test of one package cannot
//! make cargo build another package's binaries. `just test` does both.

mod async_mixed;
mod support;
mod threads_basic;
mod task_queue;
mod pool_batch;
mod race_lock;
mod cpu_processes;
mod queue_ipc;
mod executor_completed;
