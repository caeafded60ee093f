//! `shm-array`: the shared `Array` of `multiprocessing`, as a slice of `AtomicU64` in shared
//! memory, filled by a child and checked by the parent.
//!
//! The child writes `a[i] = i` for every element; the parent checks every element and sums them,
//! so `result` (the sum) can be compared with the closed form `n (n - 1) / 2`. The read pass is
//! timed and set beside a plain `memcpy` of the same size measured in the same run: reading
//! shared memory is reading memory, with no copy and no serialisation. `Relaxed` loads and
//! stores compile to plain moves, so the atomics cost nothing here (see [`crate::shm`]).

use std::io::BufReader;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use timing::{Row, Stopwatch, fmt_bytes_rate};

use crate::child::{READY, die_now, read_ready};
use crate::process::Worker;
use crate::shm::{Segment, ShmError};
use crate::{LESSON, Variant, WorkerArgs, segment_name};

/// The `shm-array` variant: a child fills `elements` 64-bit words in a shared segment, the
/// parent checks each one and reports its read speed beside `memcpy`'s.
pub fn shm_array(
    worker: &Worker,
    elements: u64,
    child_dies_after: Option<u64>,
) -> anyhow::Result<Row> {
    let len = usize::try_from(elements * 8).context("array size")?;
    let mut segment = Segment::create(&segment_name("array"), len).map_err(|err| match err {
        // A full /dev/shm is a size the user chose: their error to fix (exit 2), not ours.
        ShmError::Reserve { .. } => {
            timing::usage_error(format!("{err}: lower --elements or enlarge /dev/shm"))
        }
        other => other.into(),
    })?;
    let args = WorkerArgs::command_line(
        Variant::ShmArray,
        segment.name(),
        elements,
        0,
        child_dies_after,
    );
    let mut kid = worker.spawn(&args)?;
    read_ready(&mut BufReader::new(kid.take_stdout()?)).context("reading the child's ready")?;
    // The child has mapped the segment (or died): the name can go, so nothing can leak.
    segment.unlink().context("unlinking the segment")?;
    let fill = Stopwatch::start();
    let status = kid.wait()?;
    let fill_s = fill.elapsed().as_secs_f64();

    let failure = (!status.success()).then(|| reaper::describe_exit(kid.pid(), status));
    // `waitpid` returned, and the kernel orders the child's writes before its exit is reported:
    // the Relaxed loads in `checked_row` see every element it wrote.
    Ok(checked_row(segment.words(), elements, fill_s, failure))
}

/// The parent's side once the child has exited: checks every element, times that read, and
/// sets it beside a `memcpy` of the same size (measured only when the child succeeded: a failed
/// run's speed means nothing). `failure` says how the child ended, when it did not end well.
fn checked_row(words: &[AtomicU64], elements: u64, fill_s: f64, failure: Option<String>) -> Row {
    let len = words.len() * 8;
    let ((sum, wrong), wall) = Stopwatch::time(|| sum_and_mismatches(words));
    let n = u128::from(elements);
    // The closed form, in u128 so the product cannot overflow, then reduced mod 2^64 like the
    // wrapping sum.
    let expected = (n * n.saturating_sub(1) / 2) as u64;
    let read_rate = len as f64 / wall.as_secs_f64().max(1e-9);
    let mut row = Row::new(LESSON, Variant::ShmArray.name())
        .items(elements)
        .check(expected, sum)
        .require(wrong == 0 && failure.is_none())
        .wall(wall)
        .extra("bytes", len)
        .extra("read_bytes_per_s", read_rate)
        .extra("fill_s", fill_s);
    if let Some(failure) = failure {
        let (wrong, elements) = (timing::fmt_count(wrong), timing::fmt_count(elements));
        return row.note(format!("{failure}: {wrong} of {elements} elements wrong"));
    }
    let memcpy_rate = memcpy_rate(words.len());
    row = row.extra("memcpy_bytes_per_s", memcpy_rate);
    row.note(format!(
        "read {} vs memcpy {} ({:.0} %)",
        fmt_bytes_rate(read_rate),
        fmt_bytes_rate(memcpy_rate),
        100.0 * read_rate / memcpy_rate
    ))
}

/// The wrapping sum of the array and the number of elements `a[i] != i`, in one pass.
pub fn sum_and_mismatches(words: &[AtomicU64]) -> (u64, u64) {
    let mut sum = 0u64;
    let mut wrong = 0u64;
    for (i, word) in words.iter().enumerate() {
        let value = word.load(Ordering::Relaxed);
        sum = sum.wrapping_add(value);
        wrong += u64::from(value != i as u64);
    }
    (sum, wrong)
}

/// Bytes per second of one `memcpy` of `words` 64-bit words between two private buffers.
fn memcpy_rate(words: usize) -> f64 {
    let source: Vec<u64> = (0..words as u64).collect();
    // Filled with ones, not zeros: `vec![0; n]` gets lazily zeroed pages from the kernel, and the
    // timed copy would then measure page faults instead of memory.
    let mut target = vec![1u64; words];
    let ((), took) = Stopwatch::time(|| target.copy_from_slice(&source));
    std::hint::black_box(&target);
    (words * 8) as f64 / took.as_secs_f64().max(1e-9)
}

/// The child's side: attach, say ready, fill `a[i] = i`.
pub(crate) fn child(name: &str, elements: u64, dies_after: Option<u64>) -> anyhow::Result<()> {
    if dies_after == Some(0) {
        die_now();
    }
    let len = usize::try_from(elements * 8).context("array size")?;
    let segment = Segment::open(name, len)?;
    println!("{READY}");
    let upto = dies_after.map_or(elements, |n| n.min(elements)) as usize;
    for (i, word) in segment.words()[..upto].iter().enumerate() {
        // Relaxed: the parent reads only after this process has exited (see `shm_array`).
        word.store(i as u64, Ordering::Relaxed);
    }
    if (upto as u64) < elements {
        die_now();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_correct_array_sums_to_the_closed_form_and_a_wrong_element_is_counted() {
        let words: Vec<AtomicU64> = (0..1000).map(AtomicU64::new).collect();
        assert_eq!(sum_and_mismatches(&words), (1000 * 999 / 2, 0));
        words[10].store(0, Ordering::Relaxed);
        assert_eq!(sum_and_mismatches(&words), (1000 * 999 / 2 - 10, 1));
    }
}
