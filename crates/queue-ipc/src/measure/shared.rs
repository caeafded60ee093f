//! Rows of the shared-memory steps (5, 6 and 7): the counters timed from the starting gun to
//! the last child's exit, the array's checking pass timed and set beside a `memcpy`.

use timing::{Row, Stopwatch, fmt_bytes_rate, fmt_count};

use super::{ArrayRead, Measured, Outcome, Variant, row};
use crate::process::Worker;
use crate::shm::ShmError;
use crate::shm_lock::SharedLock;
use crate::steps::s7_shared_array;
use crate::steps::{Counted, Error, s5_locked_counter, s6_atomic_counter};

/// Steps 5 and 6 (`run`), timed from the starting gun, fired once every child is ready, to the
/// last child's exit.
pub fn counter(
    variant: Variant,
    worker: &Worker,
    children: usize,
    increments: u64,
) -> anyhow::Result<Measured> {
    let locked = variant == Variant::ShmCounterLocked;
    let ((segment, mut kids), how) = if locked {
        let started = s5_locked_counter::start(worker, children, increments)?;
        (started, "one robust mutex around each read and write")
    } else {
        let started = s6_atomic_counter::start(worker, children, increments)?;
        (started, "one AtomicU64, fetch_add, no lock")
    };
    let lock = locked.then(|| SharedLock::attach(&segment, s5_locked_counter::LOCK_AT));
    let expected = children as u64 * increments;
    let watch = Stopwatch::start();
    let counted = s5_locked_counter::fire_and_wait(&segment, &mut kids, expected, lock.as_ref())?;
    let wall = watch.elapsed();
    let total = counted.total;
    let lost = expected.saturating_sub(total);
    let note = if let Some(first) = counted.failures.first() {
        failure_note(first, &counted)
    } else if total == expected {
        format!("{children} processes, {how}, none lost")
    } else {
        let (lost, expected) = (fmt_count(lost), fmt_count(expected));
        format!("{children} processes, {how}: {lost} of {expected} increments lost")
    };
    Ok(Measured {
        row: row(variant)
            .workers(children)
            .items(total)
            .check(expected, total)
            .require(counted.failures.is_empty())
            .wall(wall)
            .note(note),
        outcome: Outcome::Counter(counted),
    })
}

/// A failed count in one line, however many children there were: the first failure, how many
/// others it stopped, any takeover of the lock from a dead holder, and what the counter holds
/// (every increment completed, the dead children's included).
fn failure_note(first: &str, counted: &Counted) -> String {
    let mut note = first.to_string();
    match counted.failures.len() - 1 {
        0 => {}
        1 => note += " (the first failure; the other child was stopped)",
        n => {
            note += &format!(
                " (the first failure; {} others were stopped)",
                fmt_count(n as u64)
            )
        }
    }
    if counted.takeovers > 0 {
        note += &format!(
            "; the lock was taken over from a dead holder {} (EOWNERDEAD)",
            match counted.takeovers {
                1 => "once".to_string(),
                n => format!("{} times", fmt_count(n)),
            }
        );
    }
    let (total, expected) = (fmt_count(counted.total), fmt_count(counted.expected));
    note + &format!(": counted {total} of {expected} increments")
}

/// Step 7 (`s7_shared_array::run`), its checking pass timed, beside a `memcpy` of the same size
/// measured in the same run when the child succeeded.
pub fn array(worker: &Worker, elements: u64) -> anyhow::Result<Measured> {
    let (segment, mut child) =
        s7_shared_array::start(worker, elements).map_err(|err| match err {
            // A full /dev/shm is a size the user chose: their error to fix (exit 2), not ours.
            Error::Shm(err @ ShmError::Reserve(..)) => {
                timing::usage_error(format!("{err}: lower --elements or enlarge /dev/shm"))
            }
            other => other.into(),
        })?;
    let (failure, fill) = Stopwatch::time(|| child.failure());
    let failure = failure?;
    // As in step 7's `run`: the child has been reaped, so its writes are all visible.
    let words = segment.words();
    let ((sum, wrong), wall) = Stopwatch::time(|| s7_shared_array::sum_and_mismatches(words));
    let read = ArrayRead {
        expected: s7_shared_array::expected_sum(elements),
        sum,
        wrong,
        read_bytes_per_s: (words.len() * 8) as f64 / wall.as_secs_f64().max(1e-9),
        memcpy_bytes_per_s: failure.is_none().then(|| memcpy_rate(words.len())),
    };
    let row = array_row(&read, elements, failure.as_deref())
        .wall(wall)
        .extra("bytes", words.len() * 8)
        .extra("fill_s", fill.as_secs_f64());
    let outcome = Outcome::Array(read);
    Ok(Measured { row, outcome })
}

/// Step 7's row: the sum checked, every element right, the child ended well; the read beside
/// the `memcpy` in the note.
fn array_row(read: &ArrayRead, elements: u64, failure: Option<&str>) -> Row {
    let rate = read.read_bytes_per_s;
    let (wrong, all) = (fmt_count(read.wrong), fmt_count(elements));
    let note = match read.memcpy_bytes_per_s {
        Some(copy) => format!(
            "read {} vs memcpy {} ({:.0} %), {wrong} of {all} elements wrong",
            fmt_bytes_rate(rate),
            fmt_bytes_rate(copy),
            100.0 * rate / copy
        ),
        None => format!(
            "{}: {wrong} of {all} elements wrong",
            failure.unwrap_or("the child failed")
        ),
    };
    let mut row = row(Variant::ShmArray)
        .items(elements)
        .check(read.expected, read.sum)
        .require(read.wrong == 0 && failure.is_none())
        .extra("read_bytes_per_s", rate)
        .note(note);
    if let Some(copy) = read.memcpy_bytes_per_s {
        row = row.extra("memcpy_bytes_per_s", copy);
    }
    row
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
