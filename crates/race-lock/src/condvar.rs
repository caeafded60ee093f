//! Step 6: producers and consumers meeting at a bounded buffer, on a `Mutex` and two `Condvar`s.

use std::collections::VecDeque;
use std::thread;

use timing::{Latencies, Row, Stopwatch, fmt_count};

use crate::sync::{Condvar, Mutex, MutexGuard};
use crate::{LESSON, WorkerPanicked, join_all, merged, timed_wait};

/// A queue of at most `capacity` items: `push` waits while it is full, `pop` while it is empty.
///
/// What changed since the [`Semaphore`](crate::Semaphore): the same lock-and-wait pattern, with
/// two conditions instead of one. Producers wait for space and consumers for items, each on
/// their own `Condvar`, so a `notify_one` always wakes a thread that can use what changed. With
/// one shared `Condvar`, a push could wake another producer instead of a consumer, and that
/// wakeup would be lost. In real code, `std::sync::mpsc::sync_channel(capacity)` is exactly
/// this buffer; it is built by hand here to show what a channel does inside.
#[derive(Debug)]
pub struct BoundedBuffer<T> {
    /// The items and whether the producers are done, under one lock.
    state: Mutex<State<T>>,
    /// Signalled when an item was added (or the buffer closed): consumers wait on it.
    not_empty: Condvar,
    /// Signalled when an item was taken (or the buffer closed): producers wait on it.
    not_full: Condvar,
}

/// What the lock of a [`BoundedBuffer`] guards.
#[derive(Debug)]
struct State<T> {
    /// Items waiting for a consumer, oldest first.
    items: VecDeque<T>,
    /// The most items `items` may hold.
    capacity: usize,
    /// No more pushes: consumers drain what is left, then `pop` returns `None`.
    closed: bool,
}

/// The buffer was closed: a consumer stopped, so the item was not delivered.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed<T>(pub T);

impl<T> BoundedBuffer<T> {
    /// An empty, open buffer of at most `capacity` items (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(capacity.max(1)),
                capacity: capacity.max(1),
                closed: false,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // `into_inner` on poison: no code holding this lock panics, and `close` runs while a
        // panicking consumer unwinds, where a second panic would abort.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds `item`, waiting while the buffer is full; gives it back if the buffer is closed.
    pub fn push(&self, item: T) -> Result<(), Closed<T>> {
        let mut state = self.lock();
        // A loop: wakeups can be spurious, and another producer may fill the space first.
        while state.items.len() >= state.capacity && !state.closed {
            state = self
                .not_full
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        if state.closed {
            return Err(Closed(item));
        }
        state.items.push_back(item);
        self.not_empty.notify_one();
        Ok(())
    }

    /// Takes the oldest item, waiting while the buffer is empty; `None` once it is closed and
    /// drained.
    pub fn pop(&self) -> Option<T> {
        let mut state = self.lock();
        while state.items.is_empty() && !state.closed {
            state = self
                .not_empty
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        let item = state.items.pop_front();
        if item.is_some() {
            self.not_full.notify_one();
        }
        item
    }

    /// Says no more items will come: waiting consumers drain and stop, waiting producers give up.
    pub fn close(&self) {
        self.lock().closed = true;
        // `notify_all`: every waiter must see the change, not just one.
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }
}

/// Closes the buffer if the consumer holding it unwinds, so producers blocked on a full buffer
/// stop instead of waiting forever for a consumer that is gone.
struct CloseOnPanic<'a, T>(&'a BoundedBuffer<T>);

impl<T> Drop for CloseOnPanic<'_, T> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.close();
        }
    }
}

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
        .extra("sum", received.sum.to_string())
        .extra("expected_sum", want.sum.to_string())
        .note(format!(
            "{producers}+{consumers} threads, {} slots, sum {}",
            fmt_count(capacity as u64),
            if received.sum == want.sum {
                "ok"
            } else {
                "WRONG"
            }
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

    #[test]
    fn a_closed_buffer_drains_then_ends_and_refuses_pushes() {
        let buffer = BoundedBuffer::new(2);
        buffer.push(1).unwrap();
        buffer.close();
        assert_eq!(buffer.push(2), Err(Closed(2)));
        assert_eq!(buffer.pop(), Some(1));
        assert_eq!(buffer.pop(), None);
    }

    #[test]
    fn a_panicking_consumer_unblocks_the_producers() {
        let buffer = BoundedBuffer::new(1);
        let result = thread::scope(|s| {
            let consumer = s.spawn(|| {
                let _close_on_panic = CloseOnPanic(&buffer);
                buffer.pop();
                panic!("consumer died");
            });
            // Blocks on the full buffer until the dying consumer closes it.
            let producer = s.spawn(|| (0..10).take_while(|&i| buffer.push(i).is_ok()).count());
            let pushed = producer.join().unwrap();
            (pushed, consumer.join().is_err())
        });
        assert!(result.0 < 10, "{result:?}");
        assert!(result.1);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use loom::sync::Arc;

    use super::*;

    /// One producer, one consumer, one slot: in every interleaving both items arrive once, in
    /// order, and nobody sleeps forever (loom fails a model in which every thread is blocked).
    #[test]
    fn loom_bounded_buffer_delivers_each_item_once() {
        loom::model(|| {
            let buffer = Arc::new(BoundedBuffer::new(1));
            let consumer = {
                let buffer = Arc::clone(&buffer);
                loom::thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Some(item) = buffer.pop() {
                        got.push(item);
                    }
                    got
                })
            };
            buffer.push(1).unwrap();
            buffer.push(2).unwrap();
            buffer.close();
            let got = consumer.join().expect("the consumer does not panic");
            assert_eq!(got, vec![1, 2]);
        });
    }
}
