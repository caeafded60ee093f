//! The synchronisation types every variant uses: the standard library's, or `loom`'s
//! model-checked twins when built with `RUSTFLAGS="--cfg loom"`.
//!
//! The lesson's counters, semaphore and buffer name their types through this module, so the
//! code the `loom` models check is the code the binary runs, not a copy written for the test.
//! `loom` replaces each type with one that records every access, then runs a test body once per
//! possible interleaving of its threads (within a bound), which a stress test can only hope to
//! hit by chance.

#[cfg(loom)]
pub(crate) use loom::sync::{
    Condvar, Mutex, MutexGuard, RwLock,
    atomic::{AtomicU64, AtomicUsize, Ordering},
};
#[cfg(not(loom))]
pub(crate) use std::sync::{
    Condvar, Mutex, MutexGuard, RwLock,
    atomic::{AtomicU64, AtomicUsize, Ordering},
};
