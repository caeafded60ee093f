//! Passing data between processes: a typed channel, a framed pipe, and shared memory holding an
//! atomic counter and an array.
//!
//! Python's `multiprocessing` gives a `Queue` (pickled objects through a pipe and a feeder
//! thread), a `Pipe` (a socket pair), and shared `Value`/`Array` (a lock-guarded C value in
//! shared memory), or `shared_memory.SharedMemory`. Rust's answers, one per variant:
//!
//! - `ipc-channel` ([`ipc_channel()`]): the `Queue`. A child sends typed `serde` messages
//!   (a sequence number and the send time) through `ipc-channel`; the parent checks that all of
//!   them arrive in order and measures messages/s and latency. The child connects once to an
//!   `IpcOneShotServer`, and the parent holds no sender, so the child's death ends the stream.
//! - `pipe` ([`pipe()`]): the `Pipe`, done by hand: the child's stdout is the pipe, carrying
//!   length-prefixed frames through 64 KiB buffers, with `--bytes` of payload each. Batching many
//!   frames per system call is why it beats a channel that makes one call per message; building
//!   and decoding frames in place, and timing one frame in 16, is why a small frame then costs a
//!   few tens of nanoseconds (see [`mod@pipe`]).
//! - `shm-counter` ([`shm_counter()`]): the shared `Value`: `--workers` children each add one
//!   `--increments` times to one `AtomicU64` in a POSIX shared-memory segment. No lock is
//!   needed and none of the increments is lost.
//! - `shm-array` ([`shm_array()`]): the shared `Array`: a child fills `--elements` words, the
//!   parent checks every one (their sum against the closed form) and reports GB/s beside a plain
//!   `memcpy` of the same size measured in the same run.
//!
//! What differs in Rust: the children are this program re-executed with a hidden `worker`
//! subcommand (Python's "spawn" start method; `fork` in a multithreaded program is a trap, see
//! [`process`]); messages are typed, not pickled; shared memory is reached through atomics, so
//! the compiler knows another process writes it (see [`shm`]). Shared memory is a small module
//! over `nix`'s `shm_open`/`shm_unlink` and `memmap2`, not the `shared_memory` crate, which leaks
//! the `/dev/shm` name when its owner dies, is unmaintained and has a `!Send` handle. Here the
//! owner unlinks the name as soon as every child has attached, so even `kill -9` leaves nothing.
//!
//! What to watch for: the pipe's messages/s against ipc-channel's (the cost of one system call
//! per message against one per 64 KiB buffer), the latency percentiles (time from the child's
//! send to the parent's receive; with a producer faster than its consumer it is mostly time spent
//! queued; for the pipe, one frame in 16 is timed), the counter's exact total, and the array
//! read speed as a fraction of `memcpy`. Kill a child (`kill -9 <pid>`) and the run reports how
//! many messages arrived out of how many and exits 1; press Ctrl-C and it ends its children and
//! exits 130. Neither leaves a child or a `/dev/shm/queue-ipc-*` segment behind.
//!
//! Measured on 2 vCPUs shared with other builds (default sizes unless said; one release run
//! before and one after the pipe's per-frame work was cut, back to back; read the ratios, not the
//! absolute numbers). The pipe, before: 2.78 M frames/s of 256 B (768 MB/s, 4.1x ipc-channel,
//! p50 1.33 ms), 15.4 M/s with 8 B payloads (`--bytes 8 --messages 1000000`), 1.50 GB/s with
//! 1 MiB frames. After: 8.13 M frames/s of 256 B (2.9x; 2.24 GB/s, 11.3x ipc-channel, p50 91 µs:
//! a faster reader leaves less queued), 48.3 M/s with 8 B payloads (3.1x), 1.83 GB/s with 1 MiB
//! frames. The same after run: ipc-channel 720 k messages/s (p50 36 µs), two processes
//! incrementing one shared counter 65.4 M/s, and the parent reading a 64 MiB shared array at
//! 6.17 GB/s, 103 % of a `memcpy` of the same size in the same run (5.96 GB/s). The Python twin
//! in the same minute: `Queue` 94.3 k/s (Rust 7.6x), `Pipe` 295 k/s with 256 B (28x) and
//! 156 k/s with 8 B (310x), a locked `Value` 684 k increments/s (96x), the shared array checked at
//! 18.5 M elements/s (42x). The divan benchmarks (`cargo bench -p queue-ipc`, medians, the
//! process start included), after: 100 000 messages over ipc-channel 687 k/s, over the pipe
//! with 64 B payloads 19.5 M/s (28x; an earlier run before the change: 5.65 M/s, 9.7x); two
//! processes on one shared `AtomicU64` 94 M increments/s; one uncontended `fetch_add` 9.04 ns in
//! a shared mapping and 9.00 ns on the heap (a mapping is ordinary memory).
//!
//! ```sh
//! cargo run --release -p queue-ipc
//! cargo run --release -p queue-ipc -- --variant pipe --bytes 65536 --messages 20000
//! ```

pub mod array;
pub mod channel;
pub mod child;
pub mod counter;
pub mod frame;
pub mod pipe;
pub mod process;
pub mod shm;

use std::ffi::OsString;
use std::sync::atomic::{AtomicU64, Ordering};

pub use array::shm_array;
pub use channel::ipc_channel;
pub use counter::shm_counter;
pub use pipe::pipe;
pub use process::Worker;

/// The lesson's name, as rows and segment names carry it.
pub const LESSON: &str = "queue-ipc";

/// The variants, as `--variant` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// Typed messages through `ipc-channel` (the `Queue`).
    IpcChannel,
    /// Length-prefixed frames through a pipe (the `Pipe`).
    Pipe,
    /// Children incrementing one atomic counter in shared memory (the shared `Value`).
    ShmCounter,
    /// A child filling an array in shared memory, checked by the parent (the shared `Array`).
    ShmArray,
}

impl Variant {
    /// The name `--variant` and the rows use.
    pub fn name(self) -> &'static str {
        match self {
            Variant::IpcChannel => "ipc-channel",
            Variant::Pipe => "pipe",
            Variant::ShmCounter => "shm-counter",
            Variant::ShmArray => "shm-array",
        }
    }
}

/// What the parent tells a worker on its command line (the hidden `worker` subcommand).
#[derive(Debug, Clone, clap::Args)]
pub struct WorkerArgs {
    /// The parent's pid: the worker exits at once if its parent is already gone.
    #[arg(long)]
    pub parent: u32,
    /// The ipc-channel server name, or the shared-memory segment name.
    #[arg(long, default_value = "")]
    pub name: String,
    /// Messages to send, increments to make, or elements to fill.
    #[arg(long)]
    pub count: u64,
    /// Payload bytes per pipe frame.
    #[arg(long, default_value_t = 0)]
    pub bytes: u64,
    /// Fault injection for the tests: die by SIGKILL after this many units of work.
    #[arg(long)]
    pub dies_after: Option<u64>,
}

impl WorkerArgs {
    /// The command line that starts a worker of `variant` (the parent adds `--parent`).
    pub(crate) fn command_line(
        variant: Variant,
        name: &str,
        count: u64,
        bytes: u64,
        dies_after: Option<u64>,
    ) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            variant.name().into(),
            "--name".into(),
            name.into(),
            "--count".into(),
            count.to_string().into(),
            "--bytes".into(),
            bytes.to_string().into(),
        ];
        if let Some(n) = dies_after {
            args.extend(["--dies-after".into(), n.to_string().into()]);
        }
        args
    }
}

/// The worker side of every variant: what a re-executed child runs.
pub fn run_worker(variant: Variant, args: &WorkerArgs) -> anyhow::Result<()> {
    child::become_worker(args.parent)?;
    match variant {
        Variant::IpcChannel => channel::child(&args.name, args.count, args.dies_after),
        Variant::Pipe => pipe::child(args.count, args.bytes, args.dies_after),
        Variant::ShmCounter => counter::child(&args.name, args.count, args.dies_after),
        Variant::ShmArray => array::child(&args.name, args.count, args.dies_after),
    }
}

/// Nanoseconds on `CLOCK_MONOTONIC`, the clock every process on the machine shares, so a time
/// stamped in the child can be subtracted from one read in the parent. (`std::time::Instant`
/// reads the same clock but cannot be sent to another process: it is opaque.)
pub fn monotonic_ns() -> u64 {
    // CLOCK_MONOTONIC always exists on Linux; clock_gettime fails only for an invalid clock id.
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .expect("CLOCK_MONOTONIC is always available on Linux");
    // Both parts are non-negative for CLOCK_MONOTONIC (it counts up from boot).
    now.tv_sec() as u64 * 1_000_000_000 + now.tv_nsec() as u64
}

/// A fresh segment name with the parent's pid in it, `/queue-ipc-<pid>-<what>-<n>`, so that two
/// runs never collide and a leak can be traced to its run.
pub(crate) fn segment_name(what: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // Relaxed: only uniqueness matters, and fetch_add gives every caller a different number.
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("/{LESSON}-{}-{what}-{n}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_carry_the_pid_and_never_repeat() {
        let a = segment_name("x");
        let b = segment_name("x");
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("/queue-ipc-{}-x-", std::process::id())));
    }

    #[test]
    fn the_monotonic_clock_does_not_go_back() {
        let a = monotonic_ns();
        let b = monotonic_ns();
        assert!(b >= a && a > 0);
    }
}
