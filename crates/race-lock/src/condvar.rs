//! Step 6: producers and consumers meeting at a bounded buffer, on a `Mutex` and two `Condvar`s.

use std::thread;

use timing::{Latencies, Row, Stopwatch, fmt_count};

use crate::buffer::CloseOnPanic;
use crate::{BoundedBuffer, LESSON, WorkerPanicked, join_all, merged, timed_wait};

/// What the consumers received, summed: enough to see a lost or a repeated item.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// How many items.
    pub count: u64,
    /// Their sum.
    pub sum: u128,
    /// The sum of their squares: a lost item and a repeated one could cancel in the sum, but
    /// not in both sums at once unless they are the same item.
    pub sum_of_squares: u128,
}

impl Received {
    /// What receiving each of `0..n` exactly once gives, in closed form.
    pub fn each_once(n: u64) -> Self {
        let n = u128::from(n);
        Self {
            count: n as u64,
            sum: n * n.saturating_sub(1) / 2,
            sum_of_squares: n.saturating_sub(1) * n * (2 * n).saturating_sub(1) / 6,
        }
    }

    fn add(&mut self, item: u64) {
        self.count += 1;
        self.sum += u128::from(item);
        self.sum_of_squares += u128::from(item) * u128::from(item);
    }

    fn merge(&mut self, other: Self) {
        self.count += other.count;
        self.sum += other.sum;
        self.sum_of_squares += other.sum_of_squares;
    }
}

/// Runs `workers / 2` producers (at least one) pushing the numbers `0..items` between them into
/// a [`BoundedBuffer`] of `capacity`, and the rest of the workers (at least one) as consumers
/// popping until it is closed and drained; times a sample of the waits in `push` and `pop`.
///
/// `expected` is `items`; the row is correct only if the consumers' count, sum and sum of
/// squares equal the closed forms for `0..items` ([`Received::each_once`]): every item consumed
/// exactly once.
pub fn condvar(workers: usize, items: u64, capacity: usize) -> Result<Row, WorkerPanicked> {
    let producers = (workers / 2).max(1);
    let consumers = workers.saturating_sub(producers).max(1);
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
            // Closed whether or not a producer panicked, so that consumers always stop.
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
    Ok(Row::new(LESSON, "condvar")
        .workers(producers + consumers)
        .items(received.count)
        .check(want.count, received.count)
        .require(received == want)
        .wall(wall)
        .latencies(&merged(&waits))
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
        )))
}

/// Producer `p` of `producers`: pushes every number in `0..items` that is `p` modulo
/// `producers`, so that together they push each number once. Returns its sampled waits.
fn produce(buffer: &BoundedBuffer<u64>, p: usize, producers: usize, items: u64) -> Latencies {
    let mut waits = Latencies::new();
    for (i, item) in (p as u64..items).step_by(producers).enumerate() {
        if timed_wait(i as u64, &mut waits, || buffer.push(item)).is_err() {
            break; // A consumer died and closed the buffer; the run will report its panic.
        }
    }
    waits
}

/// A consumer: pops until the buffer is closed and drained. Returns what it received and its
/// sampled waits.
fn consume(buffer: &BoundedBuffer<u64>) -> (Received, Latencies) {
    let _close_on_panic = CloseOnPanic(buffer);
    let mut received = Received::default();
    let mut waits = Latencies::new();
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
    fn closed_forms_match_a_count() {
        let mut by_hand = Received::default();
        (0..1000).for_each(|i| by_hand.add(i));
        assert_eq!(Received::each_once(1000), by_hand);
        assert_eq!(Received::each_once(0), Received::default());
    }

    #[test]
    fn every_item_is_consumed_exactly_once() {
        for (workers, items, capacity) in [(1, 500, 1), (5, 10_000, 4), (8, 20_001, 64)] {
            let row = condvar(workers, items, capacity).unwrap();
            assert_eq!((row.expected, row.result), (items, items));
            assert!(row.correct, "{row:?}");
        }
    }
}
