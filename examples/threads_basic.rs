//! Threads in one file: spawn and join, a named thread returning its result, a panic joined as
//! an error, scoped threads borrowing local data, and a worker paused twice, resumed and stopped.
//!
//! The Python original is the `threading` tutorial: `Thread(target=f).start()` and `join()`,
//! results appended to a shared list, flags to pause and stop a thread since none can be killed.
//! In Rust `join` hands the result back, a panic comes back as an `Err` instead of a traceback
//! printed and forgotten, and `thread::scope` lets threads borrow local data without `Arc`.
//! The panic's message on stderr (the default hook prints it) is expected.
//!
//! Run it: `cargo run --example threads_basic`. The standard library only; nothing to add:
//! ```toml
//! [dependencies]
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

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
    let Err(payload) = doomed.join() else {
        return Err("a panicking thread returned a value".into());
    };
    let msg = payload.downcast_ref::<&str>().copied().unwrap_or("?");
    println!("joined a panic as an error: {msg}");

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

    // 5. Rust cannot kill a thread (it could leave a lock held), so the worker is asked: it
    //    reads its allowance (units it may do before it waits) and a stop flag between units;
    //    out of allowance, it sets `parked` and sleeps in `park` until `unpark`. Acquire loads
    //    pair with the Release stores on the other side. Scoped, as in 4: no `Arc`s.
    const UNITS: u64 = 1_000;
    let (allowed, done) = (AtomicU64::new(UNITS / 4), AtomicU64::new(0));
    let (stop, parked) = (AtomicBool::new(false), AtomicBool::new(false));
    let out_of_allowance = |units| units >= allowed.load(Ordering::Acquire);
    let pauses = thread::scope(|s| {
        let worker = s.spawn(|| {
            let mut units = 0;
            while !stop.load(Ordering::Acquire) {
                if out_of_allowance(units) {
                    parked.store(true, Ordering::Release);
                    while out_of_allowance(units) && !stop.load(Ordering::Acquire) {
                        thread::park(); // may return early: the loop checks again
                    }
                    parked.store(false, Ordering::Release);
                    continue;
                }
                std::hint::black_box((0..200_u64).fold(units, |x, i| x.rotate_left(7) ^ i));
                units += 1;
                done.store(units, Ordering::Release);
            }
            units
        });
        // Bounded: a worker that never gets there is an error to report, not a wait forever.
        let wait_until = |what: &str, condition: &dyn Fn() -> bool| {
            let deadline = Instant::now() + Duration::from_secs(5);
            while !condition() && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(1));
            }
            condition()
                .then_some(())
                .ok_or(format!("the worker has not {what} in 5 s"))
        };
        let steer = || -> Result<Vec<(u64, u64)>, String> {
            let mut pauses = Vec::new(); // (units done when it parked, units done while parked)
            for resume_to in [UNITS / 2, UNITS] {
                wait_until("parked", &|| parked.load(Ordering::Acquire))?;
                let paused_at = done.load(Ordering::Acquire);
                thread::sleep(Duration::from_millis(10));
                pauses.push((paused_at, done.load(Ordering::Acquire) - paused_at));
                // Cleared here too, not only by the worker once it runs again: until the woken
                // thread is scheduled, the next wait would read this pause as the next one.
                parked.store(false, Ordering::Release);
                allowed.store(resume_to, Ordering::Release);
                worker.thread().unpark();
            }
            wait_until("done its job", &|| done.load(Ordering::Acquire) >= UNITS)?;
            Ok(pauses)
        };
        let steered = steer();
        // Stopped on every path, an error's too: the scope waits for the worker before it ends.
        stop.store(true, Ordering::Release);
        worker.thread().unpark();
        let units = worker.join().map_err(|_| "the worker panicked")?;
        let pauses = steered?;
        if pauses != [(UNITS / 4, 0), (UNITS / 2, 0)] || units != UNITS {
            return Err(format!("pauses {pauses:?}, {units} of {UNITS} units"));
        }
        Ok(pauses)
    })?;
    println!("worker paused at units {pauses:?} (at, during), stopped by itself after {UNITS}");
    Ok(())
}
