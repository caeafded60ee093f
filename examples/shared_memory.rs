//! An atomic counter and an array in POSIX shared memory, shared by processes: `multiprocessing`'s
//! shared `Value` and `Array` in Rust (steps 6 and 7 of `queue-ipc`).
//!
//! The parent creates the segment (`shm_open`, sized, mapped with `memmap2`) and re-executes
//! itself as K children, which map it by name and say "ready"; then it unlinks the name, which
//! the mappings outlive, so nothing is left in `/dev/shm` even if a process is killed. Each
//! child fills its share of the array (`a[i] = i`) and adds one to the counter per element with
//! `fetch_add`, one atomic instruction and no lock. The parent waits for them all, then reads the
//! array where it lies and checks it and the counter.
//!
//! ```sh
//! cargo run --release --example shared_memory -- 4 1000000
//! ```
//!
//! ```toml
//! [dependencies]
//! memmap2 = "0.9"
//! nix = { version = "0.31", features = ["mman", "fs"] }
//! ```

#![allow(unsafe_code)] // mapping a file and viewing it as atomics: see the SAFETY comments

use std::env;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::MmapMut;
use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::Mode;

/// Word 0 is the counter; the array starts on the next cache line.
const ARRAY_AT: usize = 8;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let number = |i: usize, default| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let result = match args.as_slice() {
        // `--child NAME K CHILDREN`, as the parent starts it.
        [flag, name, ..] if flag == "--child" => child(name, number(2, 0), number(3, 1).max(1)),
        // `[CHILDREN [ELEMENTS]]`: 4 children and 1 000 000 elements when absent.
        _ => parent(number(0, 4).max(1), number(1, 1_000_000).max(1)),
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err}");
        ExitCode::FAILURE
    })
}

/// The segment's words as atomics: another process writes them, which the compiler must know.
fn words(map: &MmapMut) -> &[AtomicU64] {
    // SAFETY: the mapping is page-aligned, so aligned for AtomicU64, and `len / 8` words fit in
    // it; atomics may be written through a shared reference, by this process or another; the
    // slice borrows the mapping, so it cannot outlive it; no other view of it is ever made.
    unsafe { std::slice::from_raw_parts(map.as_ptr().cast::<AtomicU64>(), map.len() / 8) }
}

/// Maps the whole segment, shared and writable.
fn map(file: &File) -> io::Result<MmapMut> {
    // SAFETY: memmap2 asks that the file not shrink while mapped (a SIGBUS); it is sized once,
    // before any child starts, and never resized.
    unsafe { MmapMut::map_mut(file) }
}

fn child(name: &str, k: usize, children: usize) -> io::Result<ExitCode> {
    let map = map(&File::from(shm_open(name, OFlag::O_RDWR, Mode::empty())?))?;
    println!("ready");
    let (counter, array) = words(&map).split_at(ARRAY_AT);
    for (i, word) in array.iter().enumerate().skip(k).step_by(children) {
        // Relaxed: the parent reads only after this process has exited.
        word.store(i as u64, Ordering::Relaxed);
        counter[0].fetch_add(1, Ordering::Relaxed);
    }
    Ok(ExitCode::SUCCESS)
}

fn parent(children: usize, n: usize) -> io::Result<ExitCode> {
    let name = format!("/shared-memory-example-{}", std::process::id());
    let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR;
    let file = File::from(shm_open(
        name.as_str(),
        flags,
        Mode::S_IRUSR | Mode::S_IWUSR,
    )?);
    let started = start(&file, &name, children, n);
    // Whether or not every child started, the name goes now: the mappings outlive it, so from
    // here on nothing can be left in /dev/shm, whatever happens.
    shm_unlink(name.as_str())?;
    let (map, mut kids) = started?;
    let mut failed = 0;
    for kid in &mut kids {
        failed += usize::from(!kid.wait()?.success());
    }
    // Relaxed loads are enough: every child has been reaped, and the kernel orders a process's
    // writes before its exit is reported to its parent.
    let (counter, array) = words(&map).split_at(ARRAY_AT);
    let count = counter[0].load(Ordering::Relaxed);
    let (mut sum, mut wrong) = (0u64, 0usize);
    for (i, word) in array.iter().enumerate() {
        let value = word.load(Ordering::Relaxed);
        sum = sum.wrapping_add(value);
        wrong += usize::from(value != i as u64);
    }
    let want = (n as u128 * (n as u128 - 1) / 2) as u64; // 0 + 1 + ... + (n - 1), mod 2^64
    println!(
        "{children} children filled {n} elements: counter {count} (want {n}), sum {sum} \
         (want {want}), {wrong} wrong, {failed} children failed"
    );
    let ok = count == n as u64 && sum == want && wrong == 0 && failed == 0;
    Ok(ExitCode::from(u8::from(!ok)))
}

/// Sizes and maps the segment, and starts the children, each attached once it says "ready" (or
/// gone, if its stdout ends first: either way it will not open the name any more).
fn start(file: &File, name: &str, children: usize, n: usize) -> io::Result<(MmapMut, Vec<Child>)> {
    file.set_len(((ARRAY_AT + n) * 8) as u64)?; // zero-filled
    let map = map(file)?;
    let (exe, mut kids) = (env::current_exe()?, Vec::with_capacity(children));
    for k in 0..children {
        let args = ["--child", name, &k.to_string(), &children.to_string()];
        let kid = Command::new(&exe)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()?;
        kids.push(kid);
    }
    for kid in &mut kids {
        BufReader::new(kid.stdout.take().expect("piped")).read_line(&mut String::new())?;
    }
    Ok((map, kids))
}
