//! Threads in one file: spawn and join, a named thread returning its result, a panic joined as
//! an error, scoped threads borrowing local data, and a worker paused, resumed and asked to stop.
//!
//! The Python original is the `threading` tutorial: `Thread(target=f).start()` and `join()`,
//! results appended to a shared list, and flags to pause and stop a thread since none can be
//! killed.
//! In Rust a thread hands its result back through `join`, a panic in it comes back as an
//! `Err` instead of a traceback printed and forgotten, and `thread::scope` lets threads borrow
//! local data without `Arc`.
//!
//! Watch for: the panic message on stderr (the default hook prints it) followed by the line
//! saying it was joined as an error; the two scoped halves adding up to 1 + 2 + ... + 10 000;
//! the worker doing nothing while paused and ending by itself after the stop flag, having done
//! its whole job.
//!
//! Run it: `cargo run --example threads_basic`. The standard library only, so there are no
//! `[dependencies]` lines to paste: copy the file into `src/main.rs` of any project.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

fn main() -> Result<(), String> {
    // 1. Python's `Thread(target=f).start()` and `join()`: `spawn` starts it, `join` waits.
    //    `move` gives the thread its own copy of what it uses: it may outlive this function.
    let greeting = String::from("hello from a thread");
    let handle = thread::spawn(move || println!("{greeting}"));
    handle.join().map_err(|_| "the greeting thread panicked")?;

    // 2. A named thread that returns its result through `join` (no shared list, no lock).
    //    `Builder` names the thread and reports a failed start as an error instead of panicking.
    let summer = thread::Builder::new()
        .name("summer".into())
        .spawn(|| (1..=1_000_u64).sum::<u64>())
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    let sum = summer.join().map_err(|_| "the summer thread panicked")?;
    assert_eq!(sum, 1_000 * 1_001 / 2);
    println!("summer returned {sum}");

    // 3. A panic in a thread is not lost: `join` returns it as an `Err`, and the caller decides.
    //    (The default panic hook still prints the panic on stderr; that line is expected.)
    let doomed = thread::spawn(|| -> u64 { panic!("deliberately") });
    match doomed.join() {
        Ok(_) => return Err("a panicking thread returned a value".into()),
        Err(payload) => {
            let msg = payload.downcast_ref::<&str>().copied().unwrap_or("?");
            println!("joined a panic as an error: {msg}");
        }
    }

    // 4. Scoped threads borrow local data: the scope joins them all before it returns, so `&`
    //    and `&mut` borrows are fine and no `Arc` or `Mutex` is needed.
    let numbers: Vec<u64> = (1..=10_000).collect();
    let mut halves = [0_u64; 2];
    let (left, right) = numbers.split_at(numbers.len() / 2);
    let (first, second) = halves.split_at_mut(1);
    thread::scope(|s| {
        s.spawn(|| first[0] = left.iter().sum());
        s.spawn(|| second[0] = right.iter().sum());
    });
    assert_eq!(halves[0] + halves[1], 10_000 * 10_001 / 2);
    println!("scoped halves: {halves:?}");

    // 5. Pausing, resuming and stopping a worker: Rust cannot kill a thread (a killed thread
    //    could leave a lock held), so the worker is asked. Between units of work it reads its
    //    allowance (units it may have done before it waits: 0 pauses it at once; here it starts
    //    with half its job) and a stop flag, and while it has no allowance it says so (`parked`)
    //    and sleeps in `park` until `unpark`. Acquire loads pair with the Release stores on the
    //    other side. Scoped, as in 4, so the worker borrows the atomics instead of `Arc`s.
    const UNITS: u64 = 1_000;
    let allowed = AtomicU64::new(UNITS / 2);
    let (stop, parked, done) = (
        AtomicBool::new(false),
        AtomicBool::new(false),
        AtomicU64::new(0),
    );
    let (paused_at, units) = thread::scope(|s| {
        let worker = s.spawn(|| {
            let mut units = 0;
            while !stop.load(Ordering::Acquire) {
                if units >= allowed.load(Ordering::Acquire) {
                    parked.store(true, Ordering::Release);
                    thread::park(); // may return early: the loop checks again
                    continue;
                }
                std::hint::black_box((0..200_u64).fold(units, |x, i| x.rotate_left(7) ^ i));
                units += 1;
                done.store(units, Ordering::Release);
            }
            units
        });
        let wait_until = |condition: &dyn Fn() -> bool| {
            while !condition() {
                thread::sleep(Duration::from_millis(1));
            }
        };
        wait_until(&|| parked.load(Ordering::Acquire));
        let paused_at = done.load(Ordering::Acquire);
        thread::sleep(Duration::from_millis(20));
        let while_paused = done.load(Ordering::Acquire) - paused_at;
        allowed.store(UNITS, Ordering::Release); // resume, to the end of its job
        worker.thread().unpark();
        wait_until(&|| done.load(Ordering::Acquire) >= UNITS);
        stop.store(true, Ordering::Release); // stop: the flag, and a wake-up so it sees it
        worker.thread().unpark();
        let units = worker.join().map_err(|_| "the worker panicked")?;
        if paused_at != UNITS / 2 || while_paused != 0 || units != UNITS {
            return Err(format!(
                "{while_paused} units while paused, {units} of {UNITS} in all"
            ));
        }
        Ok((paused_at, units))
    })?;
    println!("worker paused at unit {paused_at}, resumed, stopped by itself after {units} units");
    Ok(())
}
