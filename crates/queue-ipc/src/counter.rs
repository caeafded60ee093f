//! `shm-counter`: the shared `Value` of `multiprocessing`, as one `AtomicU64` in shared memory.
//!
//! Python's `Value('i', 0)` comes with a lock, and `v.value += 1` is still a race unless the
//! program takes it (`with v.get_lock():`). Here each of K children calls `fetch_add`, a single
//! locked instruction on the shared cache line, so no increment can be lost and there is no lock
//! to forget. The counter sits a cache line away from the start flag, so waiting children do not
//! slow the counting ones.

use std::io::{BufReader, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use timing::{Row, Stopwatch};

use crate::child::{READY, die_now, read_ready};
use crate::process::{Worker, wait_all};
use crate::shm::Segment;
use crate::{LESSON, Variant, WorkerArgs, segment_name};

/// Word index of the start flag: children count once the parent sets it to 1.
const GO: usize = 0;
/// Word index of the counter: 64 bytes after the flag, on its own cache line.
const COUNTER: usize = 8;
/// Segment size in bytes.
const LEN: usize = 128;

/// The `shm-counter` variant: `children` processes each add 1 to one shared atomic counter
/// `increments` times; the total must be exactly `children * increments`.
pub fn shm_counter(
    worker: &Worker,
    children: usize,
    increments: u64,
    child_dies_after: Option<u64>,
) -> anyhow::Result<Row> {
    let mut segment = Segment::create(&segment_name("counter"), LEN)?;
    let args = WorkerArgs::command_line(
        Variant::ShmCounter,
        segment.name(),
        increments,
        0,
        child_dies_after,
    );
    let mut kids = Vec::with_capacity(children);
    for _ in 0..children {
        kids.push(worker.spawn(&args)?);
    }
    // Each child says "ready" once mapped (or its pipe closes if it died first). After that the
    // name is no longer needed: unlinking it now means nothing can leak, whatever happens next.
    for kid in &mut kids {
        read_ready(&mut BufReader::new(kid.take_stdout()?)).context("reading a child's ready")?;
    }
    segment.unlink().context("unlinking the segment")?;

    let words = segment.words();
    let watch = Stopwatch::start();
    // Release pairs with the children's Acquire load of GO; nothing needs publishing yet (the
    // counter is zero from creation), so this is only a starting gun, and the ordering is cheap.
    words[GO].store(1, Ordering::Release);
    let failures = wait_all(&mut kids)?;
    let wall = watch.elapsed();
    // Relaxed is enough: `waitpid` returned for every child, and the kernel orders a process's
    // writes before its exit is reported to the parent.
    let total = words[COUNTER].load(Ordering::Relaxed);
    let expected = children as u64 * increments;

    let note = if failures.is_empty() {
        format!("{children} processes, one AtomicU64, no lock, none lost")
    } else {
        format!(
            "{} (the first failure stops the others)",
            failures.join("; ")
        )
    };
    Ok(Row::new(LESSON, Variant::ShmCounter.name())
        .workers(children)
        .items(total)
        .check(expected, total)
        .require(failures.is_empty())
        .wall(wall)
        .note(note))
}

/// The child's side: attach, say ready, wait for the start flag, count.
pub(crate) fn child(name: &str, increments: u64, dies_after: Option<u64>) -> anyhow::Result<()> {
    if dies_after == Some(0) {
        die_now();
    }
    let segment = Segment::open(name, LEN)?;
    let words = segment.words();
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{READY}").and_then(|()| stdout.flush())?;
    wait_for_go(&words[GO])?;
    let upto = dies_after.map_or(increments, |n| n.min(increments));
    for _ in 0..upto {
        // Relaxed: the read-modify-write is atomic whatever the ordering, which is all a
        // counter needs; the parent reads the total only after every child has exited.
        words[COUNTER].fetch_add(1, Ordering::Relaxed);
    }
    if upto < increments {
        die_now();
    }
    Ok(())
}

/// Sleeps in short steps until the parent fires the starting gun, or gives up after 30 s.
fn wait_for_go(go: &AtomicU64) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    // Acquire pairs with the parent's Release store of 1.
    while go.load(Ordering::Acquire) == 0 {
        if Instant::now() > deadline {
            bail!("the parent never gave the start signal");
        }
        // Sleeping, not spinning: on two cores, K spinning children would steal the CPU the
        // parent needs to fire the gun. 20 µs is small next to the counting.
        std::thread::sleep(Duration::from_micros(20));
    }
    Ok(())
}
