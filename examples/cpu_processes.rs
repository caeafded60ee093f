//! CPU-bound work split over threads and over re-executed processes, with the standard library
//! only: the core of the `cpu-processes` lesson in one file.
//!
//! Python's `multiprocessing.Process` per core is needed because of the GIL; Rust threads have
//! none, so `threads` scales as well as processes do. `spawn` re-executes this program with
//! `--worker` (Python's "spawn" start method), the result coming back on the child's stdout.
//! These are steps 1, 2 and 4 of the lesson (`crates/cpu-processes/src/steps/`). `fork` (step
//! 3) is left out: it needs `unsafe` and a crate (`nix` or `libc`), and its child may only make
//! async-signal-safe calls. This copy also leaves out Ctrl-C handling (a Ctrl-C from a terminal
//! reaches the workers too, as they share its process group); the lesson uses the `reaper`
//! crate for it.
//!
//! Watch: the speedup of `threads` and `spawn` over `sequential`, near the number of workers.
//!
//! Run: `cargo run --release --example cpu_processes -- --workers 2 --n 300000000`
//!
//! Dependencies: none beyond `std` (nothing to paste into `[dependencies]`).

use std::error::Error;
use std::hint::black_box;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The sum of `0..n`, one addition at a time. `black_box` stops LLVM from replacing the loop
/// with the closed form `n (n - 1) / 2`, which would leave nothing to measure. `inline(never)`:
/// every variant runs this one copy of the loop; inlined copies are laid out differently and
/// can run at different speeds, which the table would blame on threads or processes.
#[inline(never)]
fn cpu_intensive_task(n: u64) -> u64 {
    (0..n).fold(0_u64, |total, i| total.wrapping_add(black_box(i)))
}

/// `workers` tasks, one after another: the baseline.
fn sequential(n: u64, workers: u64) -> u64 {
    (0..workers).map(|_| cpu_intensive_task(n)).sum()
}

/// One thread per task; a panicked thread becomes an error instead of a lost result.
fn threads(n: u64, workers: u64) -> Result<u64, Box<dyn Error>> {
    let handles: Vec<_> = (0..workers)
        .map(|_| thread::spawn(move || cpu_intensive_task(n)))
        .collect();
    let mut total = 0;
    for handle in handles {
        total += handle.join().map_err(|_| "a worker thread panicked")?;
    }
    Ok(total)
}

/// One re-executed copy of this program per task; every child is waited for, and one that
/// fails is reported by pid and exit status.
fn spawn(n: u64, workers: u64) -> Result<u64, Box<dyn Error>> {
    let exe = std::env::current_exe()?;
    // Start them all first, then collect: the children run at the same time.
    let children = (0..workers)
        .map(|_| {
            let mut cmd = Command::new(&exe);
            cmd.args(["--worker", &n.to_string()]);
            cmd.stdout(Stdio::piped()).spawn()
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Reap every child before judging any: an early return would leave the rest unwaited.
    // `wait_with_output` reads a child's stdout to the end, then reaps it: no zombie.
    let outputs: Vec<_> = children
        .into_iter()
        .map(|child| (child.id(), child.wait_with_output()))
        .collect();
    let mut total = 0;
    for (pid, output) in outputs {
        let output = output?;
        if !output.status.success() {
            return Err(format!("child {pid} failed: {}", output.status).into());
        }
        total += String::from_utf8(output.stdout)?.trim().parse::<u64>()?;
    }
    Ok(total)
}

/// The value after `flag` on the command line, or `default`.
fn flag(args: &[String], flag: &str, default: u64) -> Result<u64, Box<dyn Error>> {
    match args.iter().position(|a| a == flag) {
        Some(i) => Ok(args.get(i + 1).ok_or("a value after the flag")?.parse()?),
        None => Ok(default),
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--worker") {
        let n: u64 = args.get(2).ok_or("worker needs n")?.parse()?;
        println!("{}", cpu_intensive_task(n));
        return Ok(());
    }
    let cores = thread::available_parallelism().map_or(1, |c| c.get() as u64);
    let workers = flag(&args, "--workers", cores)?.max(1);
    let n = flag(&args, "--n", 300_000_000)?.max(1);
    // The closed form, in u128 so that checking for overflow cannot itself overflow.
    let expected = u64::try_from(u128::from(workers) * u128::from(n) * u128::from(n - 1) / 2)
        .map_err(|_| "--n is too large: the total overflows 64 bits")?;

    let timed = |f: &dyn Fn() -> Result<u64, Box<dyn Error>>| -> Result<_, Box<dyn Error>> {
        let start = Instant::now();
        let total = f()?;
        Ok((total, start.elapsed()))
    };
    let (seq, base) = timed(&|| Ok(sequential(n, workers)))?;
    let report = |name: &str, total: u64, wall: Duration| {
        let check = if total == expected { "ok" } else { "WRONG" };
        let speedup = base.as_secs_f64() / wall.as_secs_f64();
        println!("{name:<10} {check:>5} {wall:>12.2?} {speedup:>6.2}x");
    };
    println!("{workers} workers, each summing 0..{n}");
    report("sequential", seq, base);
    let (total, wall) = timed(&|| threads(n, workers))?;
    report("threads", total, wall);
    let (total, wall) = timed(&|| spawn(n, workers))?;
    report("spawn", total, wall);
    Ok(())
}
