//! Rows of the waiting steps (5 and 7): threads sleep on a `Condvar` until another wakes them.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;

use timing::{Latencies, Stopwatch, fmt_count};

use super::{Measured, Outcome, merged, row, timed_wait, together};
use crate::steps::s5_semaphore::{Admitted, HOLD, Semaphore};
use crate::steps::s6_bounded_buffer::{BoundedBuffer, CloseOnPanic};
use crate::steps::s7_producers_consumers::{Received, split};
use crate::steps::{WorkerPanicked, join_all};

/// Instruments step 5 (`s5_semaphore::run`): the same tasks, with every wait for a permit timed
/// (a task takes 100 µs, so two clock reads are nothing beside it).
pub fn semaphore(workers: usize, tasks: u64, permits: usize) -> Result<Measured, WorkerPanicked> {
    let semaphore = Semaphore::new(permits);
    let (in_flight, most, seen) = (AtomicUsize::new(0), AtomicUsize::new(0), AtomicU64::new(0));
    let (joined, wall) = together("semaphore", workers, || {
        let mut waits = Latencies::new();
        for _ in 0..tasks {
            let start = Instant::now();
            let permit = semaphore.acquire();
            waits.record(start.elapsed());
            // Relaxed, as in the step: the semaphore's mutex orders one holder's leaving before
            // the next one's arrival.
            let now = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
            most.fetch_max(now, Ordering::Relaxed);
            seen.fetch_add(1, Ordering::Relaxed);
            thread::sleep(HOLD);
            in_flight.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        }
        waits
    });
    let waits = merged(joined?);
    let admitted = Admitted {
        holders_seen: seen.load(Ordering::Relaxed),
        most_at_once: most.load(Ordering::Relaxed),
    };
    let expected = workers as u64 * tasks;
    let most = admitted.most_at_once;
    Ok(Measured {
        row: row("semaphore", workers)
            .items(admitted.holders_seen)
            .check(expected, admitted.holders_seen)
            .require(most <= permits)
            .wall(wall)
            .latencies(&waits)
            .extra("permits", permits)
            .extra("max_in_flight", most)
            .note(format!("max {most} in flight, {permits} permits")),
        outcome: Outcome::Admitted {
            tasks: expected,
            permits,
            admitted,
        },
    })
}

/// Instruments step 7 (`s7_producers_consumers::run`): the same producers and consumers, with
/// one `push` or `pop` in [`SAMPLE_EVERY`](super::SAMPLE_EVERY) timed.
pub fn condvar(workers: usize, items: u64, capacity: usize) -> Result<Measured, WorkerPanicked> {
    let (producers, consumers) = split(workers);
    let buffer = &BoundedBuffer::new(capacity);
    let ((produced, consumed), wall) = Stopwatch::time(|| {
        thread::scope(|s| {
            let consuming = (0..consumers)
                .map(|_| s.spawn(|| consume(buffer)))
                .collect();
            let producing = (0..producers)
                .map(|p| s.spawn(move || produce(buffer, p, producers, items)))
                .collect();
            let produced = join_all("condvar", producing);
            buffer.close();
            (produced, join_all("condvar", consuming))
        })
    });
    let mut waits = produced?;
    let mut received = Received::default();
    for (part, consumer_waits) in consumed? {
        received.merge(part);
        waits.push(consumer_waits);
    }
    let want = Received::each_once(items);
    Ok(Measured {
        row: row("condvar", producers + consumers)
            .items(received.count)
            .check(want.count, received.count)
            .require(received == want)
            .wall(wall)
            .latencies(&merged(waits))
            .extra("producers", producers)
            .extra("consumers", consumers)
            .extra("capacity", capacity)
            // JSON numbers: the sums fit a u64 for up to 6e9 items (the CLI allows 1e8); beyond
            // that they saturate, and only the `correct` flag (computed in u128) is exact.
            .extra("sum", u64::try_from(received.sum).unwrap_or(u64::MAX))
            .extra("expected_sum", u64::try_from(want.sum).unwrap_or(u64::MAX))
            .note(format!(
                "{producers} producers, {consumers} consumers, {} slots",
                fmt_count(capacity as u64)
            )),
        outcome: Outcome::Received { want, received },
    })
}

/// A producer of step 7, its `push` sampled.
fn produce(buffer: &BoundedBuffer<u64>, p: usize, producers: usize, items: u64) -> Latencies {
    let mut waits = Latencies::new();
    for (i, item) in (p as u64..items).step_by(producers).enumerate() {
        if timed_wait(i as u64, &mut waits, || buffer.push(item)).is_err() {
            break;
        }
    }
    waits
}

/// A consumer of step 7, its `pop` sampled.
fn consume(buffer: &BoundedBuffer<u64>) -> (Received, Latencies) {
    let _close_on_panic = CloseOnPanic(buffer);
    let (mut received, mut waits) = (Received::default(), Latencies::new());
    for i in 0.. {
        match timed_wait(i, &mut waits, || buffer.pop()) {
            Some(item) => received.add(item),
            None => break,
        }
    }
    (received, waits)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_semaphore_row_holds_to_its_permits() {
        let m = semaphore(6, 20, 2).unwrap();
        assert_eq!((m.row.expected, m.row.result), (120, 120));
        assert!(m.row.correct);
        assert!(m.row.extra["max_in_flight"].as_u64().unwrap() <= 2);
    }

    #[test]
    fn the_condvar_row_sees_each_item_once() {
        let m = condvar(5, 10_000, 4).unwrap();
        assert_eq!((m.row.expected, m.row.result), (10_000, 10_000));
        assert!(m.row.correct);
    }
}
