//! The first three steps: start two threads and join them, name threads and get their results
//! back, and let threads borrow local data inside a scope.

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use timing::{Row, Stopwatch};

use crate::{Error, LESSON, join, join_scoped, split, sum_to};

/// What the two `hello` threads print, as in the tutorial.
const NUMBERS: [&str; 5] = ["1", "2", "3", "4", "5"];
const LETTERS: [&str; 5] = ["a", "b", "c", "d", "e"];

/// The pause between two items of a `hello` thread. The tutorial sleeps between prints so the
/// two threads take turns; without it one thread often finishes before the other has started,
/// which is just as correct and teaches less.
const HELLO_PAUSE: Duration = Duration::from_millis(1);

/// Step 1, `threading.Thread(target=print_numbers).start()` and `.join()`: two threads, one
/// sending numbers and one sending letters, both joined.
///
/// The tutorial's threads `print`; these send their items down a channel instead, so the order
/// in which they arrived is a result the row can show (the note) without mixing stray lines into
/// the table or the `--json` output. The order changes from run to run: the scheduler decides.
/// Correct means all ten items arrived and each thread's own items kept their order.
pub fn hello() -> Result<Row, Error> {
    let watch = Stopwatch::start();
    // `mpsc::Sender` is cloned, one per thread; the receiver ends when both senders are dropped,
    // that is when both threads have returned.
    let (tx, rx) = mpsc::channel::<&'static str>();
    let spawn_sender = |items: [&'static str; 5], tx: mpsc::Sender<&'static str>| {
        // `thread::spawn` is the whole of `Thread(target=...)` + `start()`: the closure runs
        // on the new thread at once. `move` hands it `items` and `tx`: a thread may outlive the
        // function that started it, so it must own what it uses (see `scoped` for borrowing).
        thread::spawn(move || {
            for item in items {
                // The receiver outlives both threads (it is read below, after the spawns), so a
                // send cannot fail here; if it ever did, dropping the item is harmless.
                let _ = tx.send(item);
                thread::sleep(HELLO_PAUSE);
            }
        })
    };
    let numbers = spawn_sender(NUMBERS, tx.clone());
    let letters = spawn_sender(LETTERS, tx);
    let order: Vec<&str> = rx.iter().collect();
    join(numbers)?;
    join(letters)?;
    let wall = watch.elapsed();

    let kept_order = |mine: &[&str]| {
        let seen: Vec<&str> = order.iter().copied().filter(|s| mine.contains(s)).collect();
        seen == mine
    };
    let expected = (NUMBERS.len() + LETTERS.len()) as u64;
    Ok(Row::new(LESSON, "hello")
        .workers(2)
        .items(order.len() as u64)
        .check(expected, order.len() as u64)
        .require(kept_order(&NUMBERS) && kept_order(&LETTERS))
        .wall(wall)
        .note(format!("arrived: {}", order.join(" ")))
        .extra("order", order.join(" ")))
}

/// Step 2, `Thread(name=...)` and a result handed back: `workers` threads made with
/// [`thread::Builder`], each named `summer-<i>`, each summing its share of `1..=n` and returning
/// its partial sum and its own name through [`JoinHandle::join`](thread::JoinHandle::join).
///
/// Since step 1: `Builder` instead of `thread::spawn`, because it can name the thread (names
/// show in panic messages, debuggers and `top -H`) and it returns an `io::Result` instead of
/// panicking when the system cannot make another thread. And the thread *returns* its result:
/// the Python idiom of appending to a shared list needs a lock in Rust, returning needs nothing.
/// Correct means the total is `n(n+1)/2` and every thread saw the name it was given.
pub fn named(n: u64, workers: usize) -> Result<Row, Error> {
    let watch = Stopwatch::start();
    let mut handles = Vec::with_capacity(workers);
    for (i, range) in split(n, workers).into_iter().enumerate() {
        let name = format!("summer-{i}");
        let handle = thread::Builder::new()
            .name(name.clone())
            .spawn(move || {
                // `black_box` on each number: without it the optimiser replaces the loop by the
                // closed form and the thread has nothing left to do.
                let partial: u64 = range.map(black_box).sum();
                // The name set by `Builder` is what the thread itself sees.
                let me = thread::current().name().unwrap_or("unnamed").to_string();
                (me, partial)
            })
            .map_err(|source| Error::Spawn { name, source })?;
        handles.push(handle);
    }
    let mut total = 0;
    let mut names_kept = true;
    for (i, handle) in handles.into_iter().enumerate() {
        let (name, partial) = join(handle)?;
        names_kept &= name == format!("summer-{i}");
        total += partial;
    }
    let wall = watch.elapsed();
    Ok(Row::new(LESSON, "named")
        .workers(workers)
        .items(n)
        .check(sum_to(n), total)
        .require(names_kept)
        .wall(wall))
}

/// Step 3, what Python does not need to think about: threads borrowing the caller's local data.
/// A `Vec` of the numbers `1..=n` lives on this function's stack; `workers` threads spawned in
/// [`thread::scope`] each sum a borrowed slice of it and write the partial sum into their own
/// borrowed slot of a local array.
///
/// Since step 2: with `thread::spawn` the closure must be `'static` (the thread could outlive
/// the data), so sharing the `Vec` would take an `Arc` and the results a `Mutex` or a return
/// value. `thread::scope` joins every thread before it returns, so the compiler accepts plain
/// `&` and `&mut` borrows, and the borrow checker still forbids two threads writing one slot.
/// Correct means the sum of the slots is `n(n+1)/2`.
pub fn scoped(n: u64, workers: usize) -> Result<Row, Error> {
    let numbers: Vec<u64> = (1..=n).collect();
    let mut partials = vec![0_u64; workers];
    let chunk_len = numbers.len().div_ceil(workers).max(1);

    let watch = Stopwatch::start();
    thread::scope(|s| -> Result<(), Error> {
        let mut handles = Vec::with_capacity(workers);
        for (chunk, slot) in numbers.chunks(chunk_len).zip(partials.iter_mut()) {
            // `chunk: &[u64]` and `slot: &mut u64` are borrows of this function's locals.
            handles.push(s.spawn(move || *slot = chunk.iter().sum()));
        }
        // Joining here, instead of letting the scope join, turns a panic into an error; a
        // thread the scope joins itself re-raises its panic when the scope ends.
        handles.into_iter().try_for_each(join_scoped)
    })?;
    let wall = watch.elapsed();

    Ok(Row::new(LESSON, "scoped")
        .workers(workers)
        .items(n)
        .check(sum_to(n), partials.iter().sum())
        .wall(wall))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_delivers_both_sequences_in_their_own_order() {
        let row = hello().unwrap();
        assert!(row.correct, "{row:?}");
        assert_eq!(row.result, 10);
    }

    #[test]
    fn named_and_scoped_sum_exactly_with_more_workers_than_numbers() {
        for (n, workers) in [(1, 4), (1000, 3), (100_000, 2)] {
            let row = named(n, workers).unwrap();
            assert!(row.correct, "{row:?}");
            let row = scoped(n, workers).unwrap();
            assert!(row.correct, "{row:?}");
            assert_eq!(row.result, n * (n + 1) / 2);
        }
    }
}
