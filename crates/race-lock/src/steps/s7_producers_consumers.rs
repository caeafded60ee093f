//! Step 7: producers and consumers meeting at the bounded buffer of step 6.
//!
//! Since step 6: threads on both sides of the buffer, and a way to tell that every item arrived
//! exactly once without keeping a list of them.

// ANCHOR: pattern
use std::thread;

use super::s6_bounded_buffer::{BoundedBuffer, CloseOnPanic};
use super::{WorkerPanicked, join_all};

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

    /// Counts one more item.
    pub fn add(&mut self, item: u64) {
        self.count += 1;
        self.sum += u128::from(item);
        self.sum_of_squares += u128::from(item) * u128::from(item);
    }

    /// Adds what another consumer received.
    pub fn merge(&mut self, other: Self) {
        self.count += other.count;
        self.sum += other.sum;
        self.sum_of_squares += other.sum_of_squares;
    }
}

/// How `workers` threads split into producers and consumers: half produce (at least one), the
/// rest consume (at least one).
pub fn split(workers: usize) -> (usize, usize) {
    let producers = (workers / 2).max(1);
    (producers, workers.saturating_sub(producers).max(1))
}

/// Runs the producers of [`split`] pushing the numbers `0..items` between them into a
/// [`BoundedBuffer`] of `capacity`, and its consumers popping until the buffer is closed and
/// drained; returns what the consumers received.
pub fn run(workers: usize, items: u64, capacity: usize) -> Result<Received, WorkerPanicked> {
    let (producers, consumers) = split(workers);
    let buffer = &BoundedBuffer::new(capacity);
    let (produced, consumed) = thread::scope(|s| {
        let consuming = (0..consumers)
            .map(|_| {
                s.spawn(|| {
                    // A dying consumer closes the buffer, so producers blocked on it stop.
                    let _close_on_panic = CloseOnPanic(buffer);
                    let mut received = Received::default();
                    while let Some(item) = buffer.pop() {
                        received.add(item);
                    }
                    received
                })
            })
            .collect();
        let producing = (0..producers)
            .map(|p| {
                // Producer `p` pushes every number that is `p` modulo `producers`: together
                // they push each number once.
                s.spawn(move || {
                    for item in (p as u64..items).step_by(producers) {
                        if buffer.push(item).is_err() {
                            break; // A consumer died and closed the buffer; its panic is reported.
                        }
                    }
                })
            })
            .collect();
        let produced = join_all("condvar", producing);
        // Closed whether or not a producer panicked, so that consumers always stop.
        buffer.close();
        (produced, join_all("condvar", consuming))
    });
    produced?;
    let mut received = Received::default();
    consumed?.into_iter().for_each(|part| received.merge(part));
    Ok(received)
}
// ANCHOR_END: pattern

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
            assert_eq!(
                run(workers, items, capacity).unwrap(),
                Received::each_once(items)
            );
        }
    }
}
