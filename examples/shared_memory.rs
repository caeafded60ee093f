//! An atomic counter and an array in shared memory, shared by processes: `multiprocessing`'s
//! shared `Value` and `Array` in Rust (steps 6 and 7 of `queue-ipc`).
//!
//! The parent makes a file in `/dev/shm` that never has a name (`O_TMPFILE`), reserves its
//! memory, maps it, and re-executes itself as K children, each given the file as its stdin.
//! Each child fills its share of the array (`a[i] = i`) and adds one to the counter per element
//! with `fetch_add`, one atomic instruction and no lock. The parent waits for every child, then
//! checks the array where it lies, and the counter. With no name, the memory cannot be left
//! behind: the kernel frees it when the last process holding it ends, `kill -9` or not.
//!
//! ```sh
//! cargo run --release --example shared_memory -- 4 1000000
//! ```
//!
//! ```toml
//! [dependencies]
//! memmap2 = "0.9"
//! nix = { version = "0.31", features = ["fs"] }
//! ```

#![allow(unsafe_code)] // viewing the mapping as atomics: see the SAFETY comment

use std::env;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::{MmapOptions, MmapRaw};

/// Word 0 is the counter; the array starts on the next cache line.
const ARRAY_AT: usize = 8;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let number = |i: usize, default| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let result = match args.first().map(String::as_str) {
        // `--child K CHILDREN`, as the parent starts it, with the segment as stdin.
        Some("--child") => child(number(1, 0), number(2, 1).max(1)),
        // `[CHILDREN [ELEMENTS]]`: 4 children and 1 000 000 elements when absent.
        _ => parent(number(0, 4).max(1), number(1, 1_000_000).max(1)),
    };
    result.unwrap_or_else(|err| {
        eprintln!("error: {err}");
        ExitCode::FAILURE
    })
}

/// A nameless file of `len` zeroed bytes in `/dev/shm`, its memory reserved.
fn segment(len: usize) -> io::Result<File> {
    let mut options = OpenOptions::new();
    // O_EXCL: it may never be linked into the directory later either.
    options.read(true).write(true).mode(0o600);
    let file = options
        .custom_flags(nix::libc::O_TMPFILE | nix::libc::O_EXCL)
        .open("/dev/shm")?;
    let len = i64::try_from(len).map_err(|_| io::Error::other("segment too large"))?;
    // Not `set_len`: that leaves a sparse file, and a write to a page /dev/shm cannot supply
    // would kill the writer with SIGBUS.
    nix::fcntl::posix_fallocate(&file, 0, len)?;
    Ok(file)
}

/// The mapping's words as atomics: other processes write them, which the compiler must know.
fn words(map: &MmapRaw) -> &[AtomicU64] {
    // SAFETY: the pointer comes from `mmap` and no reference to the bytes exists (`MmapRaw`
    // makes none), the mapping is page-aligned, so aligned for AtomicU64, and `len / 8` words
    // fit in it; atomics may be written through a shared reference, by this process or another;
    // the slice borrows the mapping, so it cannot outlive it; the file is never truncated.
    unsafe { std::slice::from_raw_parts(map.as_mut_ptr().cast::<AtomicU64>(), map.len() / 8) }
}

fn child(k: usize, children: usize) -> io::Result<ExitCode> {
    let map = MmapOptions::new().map_raw(&File::from(io::stdin().as_fd().try_clone_to_owned()?))?;
    let (counter, array) = words(&map).split_at(ARRAY_AT);
    for (i, word) in array.iter().enumerate().skip(k).step_by(children) {
        // Relaxed: the parent reads only after this process has exited.
        word.store(i as u64, Ordering::Relaxed);
        counter[0].fetch_add(1, Ordering::Relaxed);
    }
    Ok(ExitCode::SUCCESS)
}

fn parent(children: usize, n: usize) -> io::Result<ExitCode> {
    let len = n
        .checked_add(ARRAY_AT)
        .and_then(|words| words.checked_mul(8));
    let len = len.ok_or_else(|| io::Error::other(format!("{n} elements do not fit in memory")))?;
    let file = segment(len)?;
    let map = MmapOptions::new().map_raw(&file)?;
    let exe = env::current_exe()?;
    // Each child's stdin is the segment. If one cannot start, those already running are still
    // waited for below: none is left a zombie.
    let mut kids = Vec::with_capacity(children);
    let started = (0..children).try_for_each(|k| {
        let args = ["--child", &k.to_string(), &children.to_string()];
        kids.push(
            Command::new(&exe)
                .args(args)
                .stdin(file.try_clone()?)
                .spawn()?,
        );
        io::Result::Ok(())
    });
    let mut failed = 0;
    for kid in &mut kids {
        failed += usize::from(!kid.wait().is_ok_and(|status| status.success()));
    }
    started?;
    // Relaxed loads are enough: every child has been reaped, and the kernel orders a process's
    // writes before its exit is reported to its parent.
    let (counter, array) = words(&map).split_at(ARRAY_AT);
    let count = counter[0].load(Ordering::Relaxed);
    let values = array.iter().map(|word| word.load(Ordering::Relaxed));
    let sum = values.clone().fold(0u64, u64::wrapping_add);
    let wrong = values.enumerate().filter(|&(i, v)| v != i as u64).count();
    let want = (n as u128 * (n as u128 - 1) / 2) as u64; // 0 + 1 + ... + (n - 1), mod 2^64
    println!(
        "{children} children filled {n} elements: counter {count} (want {n}), sum {sum} \
         (want {want}), {wrong} wrong, {failed} children failed"
    );
    let ok = count == n as u64 && sum == want && wrong == 0 && failed == 0;
    Ok(ExitCode::from(u8::from(!ok)))
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use super::*;

    #[test]
    fn a_segment_has_no_name_and_one_larger_than_dev_shm_is_refused_at_once() {
        let file = segment(4096).unwrap();
        let path = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).unwrap();
        assert!(path.to_string_lossy().ends_with(" (deleted)"), "{path:?}");
        assert!(segment(1 << 50).is_err(), "1 PiB fits in /dev/shm?");
    }
}
