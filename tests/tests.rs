//! End-to-end tests: every lesson binary run as a user runs it, with `--json`, bad input and
//! faults. One test binary with a module per lesson keeps link time down.
//!
//! The binaries must be built first (`cargo build --workspace`): a test of one package cannot
//! make cargo build another package's binaries. `just test` does both.

mod async_mixed;
mod book;
mod cli_conventions;
mod compare;
mod cpu_processes;
mod executor_completed;
mod pool_batch;
mod queue_ipc;
mod race_lock;
mod support;
mod task_queue;
mod threads_basic;
