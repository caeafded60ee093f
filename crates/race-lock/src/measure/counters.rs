//! Rows of the counting steps (1 to 4): each thread adds, the count is checked against
//! `workers * increments`.

use timing::{Latencies, Stopwatch, fmt_count};

use super::{Measured, Outcome, merged, row, timed_wait, together};
use crate::steps::s2_mutex::MutexCounter;
use crate::steps::s4_rwlock::{ReadMostly, RwCounter, WRITE_EVERY};
use crate::steps::{WorkerPanicked, s1_racy, s3_atomic};

/// Step 1 as written, timed: **deliberately broken**, its row says how many updates it lost.
pub fn racy(workers: usize, increments: u64) -> Result<Measured, WorkerPanicked> {
    let (counted, wall) = Stopwatch::time(|| s1_racy::run(workers, increments));
    let counted = counted?;
    let expected = workers as u64 * increments;
    let lost = expected.saturating_sub(counted);
    Ok(Measured {
        row: row("racy", workers)
            .items(expected)
            .check(expected, counted)
            .wall(wall)
            .extra("lost", lost)
            .note(format!("lost {}", fmt_count(lost)))
            .deliberately_broken(),
        outcome: Outcome::Racy { expected, counted },
    })
}

/// Instruments step 2 (`s2_mutex::run`): the same threads and `*counter.lock() += 1`, with one
/// `lock()` in [`SAMPLE_EVERY`](super::SAMPLE_EVERY) timed.
pub fn mutex(workers: usize, increments: u64) -> Result<Measured, WorkerPanicked> {
    let counter = MutexCounter::new();
    let (joined, wall) = together("mutex", workers, || {
        // Each thread records its own waits (no shared histogram to contend on); they are
        // merged after the join.
        let mut waits = Latencies::new();
        for i in 0..increments {
            *timed_wait(i, &mut waits, || counter.lock()) += 1;
        }
        waits
    });
    let waits = merged(joined?);
    let expected = workers as u64 * increments;
    let counted = counter.get();
    Ok(Measured {
        row: row("mutex", workers)
            .items(expected)
            .check(expected, counted)
            .wall(wall)
            .latencies(&waits)
            .note("wait for the lock"),
        outcome: Outcome::Counted { expected, counted },
    })
}

/// Step 3 as written, timed: nothing waits, so there is no wait to sample.
pub fn atomic(workers: usize, increments: u64) -> Result<Measured, WorkerPanicked> {
    let (counted, wall) = Stopwatch::time(|| s3_atomic::run(workers, increments));
    let counted = counted?;
    let expected = workers as u64 * increments;
    Ok(Measured {
        row: row("atomic", workers)
            .items(expected)
            .check(expected, counted)
            .wall(wall)
            .note("no lock, nothing to wait for"),
        outcome: Outcome::Counted { expected, counted },
    })
}

/// Instruments step 4 (`s4_rwlock::run`): the same read-mostly loop, with one lock in
/// [`SAMPLE_EVERY`](super::SAMPLE_EVERY) timed. `items` counts every operation; the checked
/// number is the writes, `workers * ceil(operations / WRITE_EVERY)`.
pub fn rwlock(workers: usize, operations: u64) -> Result<Measured, WorkerPanicked> {
    let counter = RwCounter::new();
    let (joined, wall) = together("rwlock", workers, || {
        let (mut torn, mut waits) = (0, Latencies::new());
        for i in 0..operations {
            if i.is_multiple_of(WRITE_EVERY) {
                timed_wait(i, &mut waits, || counter.increment());
            } else {
                let (a, b) = timed_wait(i, &mut waits, || counter.read());
                torn += u64::from(a != b);
            }
        }
        (torn, waits)
    });
    let (torn, waits): (Vec<u64>, Vec<Latencies>) = joined?.into_iter().unzip();
    let seen = ReadMostly {
        pair: counter.read(),
        torn_reads: torn.iter().sum(),
    };
    let writes = workers as u64 * operations.div_ceil(WRITE_EVERY);
    let (a, b) = seen.pair;
    Ok(Measured {
        row: row("rwlock", workers)
            .items(workers as u64 * operations)
            .check(writes, a)
            .require(a == b && seen.torn_reads == 0)
            .wall(wall)
            .latencies(&merged(waits))
            .extra("torn_reads", seen.torn_reads)
            .note(format!(
                "checks the {} writes, 1 in {WRITE_EVERY}; torn reads {}",
                fmt_count(writes),
                seen.torn_reads
            )),
        outcome: Outcome::ReadMostly { writes, seen },
    })
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn rows_check_the_counts() {
        let m = mutex(4, 1_000).unwrap();
        assert_eq!((m.row.expected, m.row.result), (4_000, 4_000));
        assert!(m.row.correct && m.row.p50_ns.is_some());
        let a = atomic(4, 1_000).unwrap();
        assert!(a.row.correct);
        let r = rwlock(6, 1_005).unwrap();
        assert_eq!((r.row.expected, r.row.result), (606, 606));
        assert!(r.row.correct);
    }

    #[test]
    fn the_racy_row_is_marked_broken_and_counts_its_losses() {
        let m = racy(4, 20_000).unwrap();
        assert!(m.row.expected_failure);
        assert_eq!(m.row.extra["lost"], m.row.expected - m.row.result);
    }
}
