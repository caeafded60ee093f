//! CPU-bound work split over threads and over re-executed processes, with the standard library
//! only: steps 1, 2 and 4 of the `cpu-processes` lesson (`crates/cpu-processes/src/steps/`).
//!
//! Python needs a `multiprocessing.Process` per core because of the GIL; Rust threads have
//! none, so `threads` scales as well as processes do: watch their speedup over `sequential`.
//! `spawn` re-executes this program with `--worker` (Python's "spawn" start method). Left out:
//! `fork` (step 3: `unsafe`, a crate, and a child that may only make async-signal-safe calls)
//! and Ctrl-C handling (a terminal's Ctrl-C reaches the workers too, in its process group).
//!
//! Run: `cargo run --release --example cpu_processes -- --workers 2 --n 300000000`
//!
//! ```toml
//! [dependencies]
//! ```
//! Nothing to paste: the standard library is all it needs.

use std::error::Error;
use std::hint::black_box;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Instant;

/// Any error, boxed: all a program that reports it and exits needs.
type Fallible<T> = Result<T, Box<dyn Error>>;

/// The sum of `0..n`, one addition at a time. `black_box` keeps LLVM from replacing the loop by
/// `n (n - 1) / 2`, which would leave nothing to measure. `inline(never)`: every variant runs
/// this one copy; inlined copies can run at different speeds, blamed on threads or processes.
#[inline(never)]
fn cpu_intensive_task(n: u64) -> u64 {
    (0..n).fold(0_u64, |total, i| total.wrapping_add(black_box(i)))
}

/// `workers` tasks, one after another: the baseline.
fn sequential(n: u64, workers: u64) -> u64 {
    (0..workers).map(|_| cpu_intensive_task(n)).sum()
}

/// One thread per task; a panicked thread becomes an error instead of a lost result.
fn threads(n: u64, workers: u64) -> Fallible<u64> {
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
fn spawn(n: u64, workers: u64) -> Fallible<u64> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args(["--worker", &n.to_string()])
        .stdout(Stdio::piped());
    // Start them all first, then collect: the children run at the same time.
    let mut children = Vec::new();
    for index in 0..workers {
        match cmd.spawn() {
            Ok(child) => children.push(child),
            // A dropped `Child` is neither killed nor waited for: end and reap the ones already
            // started, or they run on unwaited (zombies, then orphans once we exit).
            Err(err) => {
                for child in &mut children {
                    let _ = child.kill(); // SIGKILL; one that has already exited ignores it
                    let _ = child.wait(); // reaps it, whichever way it ended
                }
                return Err(format!("starting worker {index} of {workers}: {err}").into());
            }
        }
    }
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
fn flag(args: &[String], flag: &str, default: u64) -> Fallible<u64> {
    match args.iter().position(|a| a == flag) {
        Some(i) => Ok(args.get(i + 1).ok_or("a value after the flag")?.parse()?),
        None => Ok(default),
    }
}

fn main() -> Fallible<()> {
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
    println!("{workers} workers, each summing 0..{n}");
    let variants: [(&str, &dyn Fn() -> Fallible<u64>); 3] = [
        ("sequential", &|| Ok(sequential(n, workers))),
        ("threads", &|| threads(n, workers)),
        ("spawn", &|| spawn(n, workers)),
    ];
    let mut base = None;
    for (name, run) in variants {
        let start = Instant::now();
        let total = run()?;
        let wall = start.elapsed();
        let speedup = base.get_or_insert(wall).as_secs_f64() / wall.as_secs_f64();
        let check = if total == expected { "ok" } else { "WRONG" };
        println!("{name:<10} {check:>5} {wall:>12.2?} {speedup:>6.2}x");
    }
    Ok(())
}
