//! Step 1: two threads started and joined, one sending numbers and one sending letters.
//!
//! The tutorial's first program, `threading.Thread(target=print_numbers).start()` and
//! `.join()`: `thread::spawn` is the whole of `Thread(target=...)` plus `start()`, and
//! `JoinHandle::join` is `join()`.

// ANCHOR: pattern
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::{Error, join_all};

/// What the numbers thread sends, in order.
pub const NUMBERS: [&str; 5] = ["1", "2", "3", "4", "5"];

/// What the letters thread sends, in order.
pub const LETTERS: [&str; 5] = ["a", "b", "c", "d", "e"];

/// The pause between two items of a thread. The tutorial sleeps between prints so the two
/// threads take turns; without it one thread often finishes before the other has started,
/// which is just as correct and teaches less.
pub const PAUSE: Duration = Duration::from_millis(1);

/// Starts the two threads, joins both, and returns the ten items in the order they arrived.
///
/// The tutorial's threads `print`; these send their items down a channel instead, so the order
/// in which they arrived is a result the caller can show and check, without mixing stray lines
/// into a table or JSON output. The order changes from run to run: the scheduler decides. What
/// does not change: all ten arrive, and each thread's own items keep their order.
pub fn run() -> Result<Vec<&'static str>, Error> {
    // `mpsc::Sender` is cloned, one per thread; the receiver ends when both senders are dropped,
    // that is when both threads have returned.
    let (tx, rx) = mpsc::channel::<&'static str>();
    let spawn_sender = |items: [&'static str; 5], tx: mpsc::Sender<&'static str>| {
        // The closure runs on the new thread at once. `move` hands it `items` and `tx`: a thread
        // may outlive the function that started it, so it must own what it uses (step 4 shows
        // how to borrow instead).
        thread::spawn(move || {
            for item in items {
                // The receiver outlives both threads (it is read below, after the spawns), so a
                // send cannot fail here; if it ever did, dropping the item is harmless.
                let _ = tx.send(item);
                thread::sleep(PAUSE);
            }
        })
    };
    let numbers = spawn_sender(NUMBERS, tx.clone());
    let letters = spawn_sender(LETTERS, tx);
    let arrived: Vec<&str> = rx.iter().collect();
    // Both joined before either panic is reported: `join(numbers)?` first would leave the
    // letters thread unjoined whenever the numbers thread panicked.
    join_all(vec![numbers, letters])?;
    Ok(arrived)
}
// ANCHOR_END: pattern

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sequences_arrive_each_in_its_own_order() {
        let arrived = run().unwrap();
        assert_eq!(arrived.len(), 10);
        let only = |mine: &[&str]| -> Vec<&str> {
            arrived
                .iter()
                .copied()
                .filter(|s| mine.contains(s))
                .collect()
        };
        assert_eq!(only(&NUMBERS), NUMBERS);
        assert_eq!(only(&LETTERS), LETTERS);
    }
}
