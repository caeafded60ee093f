//! Step 6: a bounded buffer, a `Mutex` around a queue and two `Condvar`s to wait on.
//!
//! Since step 5: the same lock-and-wait pattern, with two conditions instead of one.

// ANCHOR: pattern
use std::collections::VecDeque;
use std::thread;

use crate::sync::{Condvar, Mutex, MutexGuard};

/// A queue of at most `capacity` items: `push` waits while it is full, `pop` while it is empty.
///
/// Producers wait for space and consumers for items, each on
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
pub struct CloseOnPanic<'a, T>(pub &'a BoundedBuffer<T>);

impl<T> Drop for CloseOnPanic<'_, T> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.close();
        }
    }
}
// ANCHOR_END: pattern

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

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

    /// A model thread that pops until the buffer is closed and empty, returning what it got.
    fn spawn_consumer(buffer: &Arc<BoundedBuffer<i32>>) -> loom::thread::JoinHandle<Vec<i32>> {
        let buffer = Arc::clone(buffer);
        loom::thread::spawn(move || {
            let mut got = Vec::new();
            while let Some(item) = buffer.pop() {
                got.push(item);
            }
            got
        })
    }

    /// One producer, one consumer, one slot: in every interleaving both items arrive once, in
    /// order, and nobody sleeps forever (loom fails a model in which every thread is blocked).
    #[test]
    fn loom_bounded_buffer_delivers_each_item_once() {
        loom::model(|| {
            let buffer = Arc::new(BoundedBuffer::new(1));
            let consumer = spawn_consumer(&buffer);
            buffer.push(1).unwrap();
            buffer.push(2).unwrap();
            buffer.close();
            let got = consumer.join().expect("the consumer does not panic");
            assert_eq!(got, vec![1, 2]);
        });
    }

    /// Two consumers sleeping on one `Condvar` while a producer fills a one-slot buffer: each
    /// `notify_one` must wake a thread that can use it, or an item would sit unread (loom
    /// reports the blocked threads as a deadlock). Every item arrives exactly once.
    #[test]
    fn loom_bounded_buffer_two_consumers_take_each_item_once() {
        let mut builder = loom::model::Builder::new();
        // Bounding preemptions keeps the search to seconds; wakeup bugs show within 2.
        builder.preemption_bound = Some(2);
        builder.check(|| {
            let buffer = Arc::new(BoundedBuffer::new(1));
            let consumers: Vec<_> = (0..2).map(|_| spawn_consumer(&buffer)).collect();
            buffer.push(1).unwrap();
            buffer.push(2).unwrap();
            buffer.close();
            let mut got: Vec<i32> = consumers
                .into_iter()
                .flat_map(|c| c.join().expect("a consumer does not panic"))
                .collect();
            got.sort_unstable();
            assert_eq!(got, vec![1, 2]);
        });
    }
}
